package io.udit.io;

import io.udit.engine.FileKinds;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Recognises file kinds from their first bytes, for format detection and helpful error messages. */
final class Sniff {
    private Sniff() {}

    static final byte[] TORCH_LEGACY_MAGIC = {(byte) 0x80, 0x02, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46,
            (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19};

    static final String LEGACY_TORCH = "legacy torch.save format (before 1.6) is not supported; re-save with torch>=1.6";

    /** NoSuchFileException when absent, CheckpointFormatException when a directory or device. */
    static void requireRegularFile(Path file) throws IOException {
        if (!Files.exists(file)) throw new java.nio.file.NoSuchFileException(file.toString());
        if (!Files.isRegularFile(file)) throw CheckpointFormatException.of(file, "is " + FileKinds.describe(file) + ", not a regular file");
    }

    static byte[] head(Path file, int n) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(n);
        }
    }

    static boolean isZip(byte[] h) {
        return h.length >= 4 && h[0] == 'P' && h[1] == 'K' && ((h[2] == 3 && h[3] == 4) || (h[2] == 5 && h[3] == 6));
    }

    static boolean isNpy(byte[] h) {
        return h.length >= 6 && (h[0] & 0xFF) == 0x93 && h[1] == 'N' && h[2] == 'U' && h[3] == 'M' && h[4] == 'P' && h[5] == 'Y';
    }

    static boolean isPickle(byte[] h) {
        return h.length >= 2 && (h[0] & 0xFF) == 0x80 && h[1] >= 2 && h[1] <= 5;
    }

    static boolean isLegacyTorch(byte[] h) {
        if (h.length >= TORCH_LEGACY_MAGIC.length) {
            boolean m = true;
            for (int i = 0; i < TORCH_LEGACY_MAGIC.length; i++) m &= h[i] == TORCH_LEGACY_MAGIC[i];
            if (m) return true;
        }
        return isPickle(h) || isTar(h);
    }

    static boolean isTar(byte[] h) {
        return h.length >= 262 && h[257] == 'u' && h[258] == 's' && h[259] == 't' && h[260] == 'a' && h[261] == 'r';
    }

    /** 8-byte little-endian header length that fits the file, then '{'. */
    static boolean isSafetensors(byte[] h, long fileSize) {
        if (h.length < 9) return false;
        long n = ByteBuffer.wrap(h, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return n >= 2 && n <= fileSize - 8 && h[8] == '{';
    }

    static String describe(byte[] h, long size) {
        if (size == 0) return "an empty file";
        if (isZip(h)) return "a zip archive";
        if (isNpy(h)) return "an .npy array";
        if (isLegacyTorch(h)) return "a pickle/tar stream (" + LEGACY_TORCH + ")";
        if (isSafetensors(h, size)) return "a safetensors file";
        if (h.length >= 8 && (h[0] & 0xFF) == 0x89 && h[1] == 'P' && h[2] == 'N' && h[3] == 'G') return "a PNG image";
        if (h.length >= 3 && (h[0] & 0xFF) == 0xFF && (h[1] & 0xFF) == 0xD8 && (h[2] & 0xFF) == 0xFF) return "a JPEG image";
        if (h.length >= 4 && h[0] == 'G' && h[1] == 'I' && h[2] == 'F' && h[3] == '8') return "a GIF image";
        if (h.length >= 2 && (h[0] & 0xFF) == 0x1f && (h[1] & 0xFF) == 0x8b) return "a gzip file";
        if (h.length >= 4 && (h[0] & 0xFF) == 0x89 && h[1] == 'H' && h[2] == 'D' && h[3] == 'F') return "an HDF5 file";
        if (looksLikeText(h)) return "a text file";
        return "unrecognised binary data";
    }

    static boolean looksLikeText(byte[] h) {
        if (h.length == 0) return false;
        int bad = 0;
        for (byte x : h) {
            int c = x & 0xFF;
            if (c == 0) return false;
            if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f') bad++;
        }
        return bad * 20 < h.length;
    }
}
