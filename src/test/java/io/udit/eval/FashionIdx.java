package io.udit.eval;

import io.udit.data.Dataset;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.GZIPInputStream;

/**
 * Test-only Fashion-MNIST reader (the gzipped IDX files of Debian's dataset-fashion-mnist), padded to 32 x 32 with
 * background -1 and scaled as (v / 255 - 0.5) / 0.5, like io.udit.data.FashionMnist on the data branch.
 */
final class FashionIdx implements Dataset {
    static final Path DIR = Path.of("/usr/share/datasets/fashion-mnist");
    private final byte[] pixels;
    private final byte[] labels;
    private final int count;
    private final String split;

    FashionIdx(boolean train) {
        split = train ? "train" : "t10k";
        try {
            pixels = payload(DIR.resolve(split + "-images-idx3-ubyte.gz"), 16);
            labels = payload(DIR.resolve(split + "-labels-idx1-ubyte.gz"), 8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        count = labels.length;
        if (pixels.length != count * 784) throw new IllegalStateException("inconsistent Fashion-MNIST files");
    }

    static boolean available() {
        return Files.isRegularFile(DIR.resolve("train-images-idx3-ubyte.gz"));
    }

    private static byte[] payload(Path f, int header) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(f), 1 << 16)) {
            byte[] all = in.readAllBytes();
            ByteBuffer b = ByteBuffer.wrap(all);
            if (b.getInt(0) != (header == 16 ? 0x803 : 0x801)) throw new IOException(f + ": bad IDX magic");
            byte[] out = new byte[all.length - header];
            System.arraycopy(all, header, out, 0, out.length);
            return out;
        }
    }

    @Override
    public int size() {
        return count;
    }

    @Override
    public int numClasses() {
        return 10;
    }

    @Override
    public int channels() {
        return 1;
    }

    @Override
    public int resolution() {
        return 32;
    }

    @Override
    public List<String> classNames() {
        return List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    }

    @Override
    public int read(int index, float[] dst, SplittableRandom rng) {
        java.util.Arrays.fill(dst, 0, 1024, -1f);
        int base = index * 784;
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) dst[(y + 2) * 32 + x + 2] = ((pixels[base + y * 28 + x] & 0xff) / 255f - 0.5f) / 0.5f;
        }
        return labels[index] & 0xff;
    }

    @Override
    public String describe() {
        return "Fashion-MNIST " + split + " (test reader, " + DIR + ", 32x32)";
    }
}
