package io.udit.io;

import io.udit.engine.Engine;
import io.udit.engine.UserInputException;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** Format detection by content, and state-dict reading/writing in whichever format a file uses. */
public final class WeightFiles {
    private WeightFiles() {}

    public enum Format { TORCH, SAFETENSORS, NPZ, NPY }

    /** Detects the format from the file's content (not its name). */
    public static Format detect(Path file) throws IOException {
        Sniff.requireRegularFile(file);
        long size = Files.size(file);
        byte[] head = Sniff.head(file, 512);
        if (Sniff.isZip(head)) {
            try (ZipArchive zip = ZipArchive.open(file)) {
                boolean pkl = false;
                boolean npy = false;
                for (String n : zip.names()) {
                    if (n.equals("data.pkl") || n.endsWith("/data.pkl")) pkl = true;
                    if (n.endsWith(".npy")) npy = true;
                }
                if (pkl) return Format.TORCH;
                if (npy) return Format.NPZ;
                throw CheckpointFormatException.of(file, "zip archive is neither a torch.save checkpoint (no data.pkl) nor an npz (no .npy entries)");
            }
        }
        if (Sniff.isNpy(head)) return Format.NPY;
        if (Sniff.isSafetensors(head, size)) return Format.SAFETENSORS;
        if (Sniff.isLegacyTorch(head)) throw CheckpointFormatException.of(file, Sniff.LEGACY_TORCH);
        throw CheckpointFormatException.of(file, "not a weight file: it is " + Sniff.describe(head, size));
    }

    /**
     * The state dict stored in the file, whatever its format. For torch checkpoints {@code key} picks the entry of a
     * training checkpoint (see {@link TorchCheckpoint#readStateDict}); safetensors and npz files are flat, so there
     * {@code key} is ignored and all tensors are returned.
     */
    public static LinkedHashMap<String, Tensor> readStateDict(Path file, String key) throws IOException {
        Engine.init();
        LinkedHashMap<String, Tensor> sd = switch (detect(file)) {
            case TORCH -> TorchCheckpoint.readStateDict(file, key);
            case SAFETENSORS -> Safetensors.read(file);
            case NPZ -> Npz.read(file);
            case NPY -> throw CheckpointFormatException.of(file, "an .npy file holds a single array, not a state dict");
        };
        TensorNames.checkRead(file, sd.keySet());
        return sd;
    }

    /** The format a file name's extension asks for: .pt/.pth/.bin/.ckpt (torch), .safetensors, .npz; else a user error. */
    public static Format requireWritableFormat(Path file) {
        String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".pt") || name.endsWith(".pth") || name.endsWith(".bin") || name.endsWith(".ckpt")) return Format.TORCH;
        if (name.endsWith(".safetensors")) return Format.SAFETENSORS;
        if (name.endsWith(".npz")) return Format.NPZ;
        throw new UserInputException(file + ": unknown weight file extension (use .pt, .pth, .bin, .ckpt, .safetensors or .npz)");
    }

    /** Writes a state dict in the format the extension names (see {@link #requireWritableFormat}). */
    public static void writeStateDict(Path file, Map<String, Tensor> stateDict) throws IOException {
        Format f = requireWritableFormat(file);
        TensorNames.checkWrite(file, stateDict.keySet());
        switch (f) {
            case TORCH -> TorchCheckpointWriter.write(file, new LinkedHashMap<>(stateDict));
            case SAFETENSORS -> Safetensors.write(file, stateDict, null);
            default -> Npz.write(file, stateDict);
        }
    }

    /** A copy of the map with float16/bfloat16 tensors converted to float32 (other tensors are passed through). */
    public static LinkedHashMap<String, Tensor> toFloat32(Map<String, Tensor> stateDict) {
        Engine.init();
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : stateDict.entrySet()) {
            Tensor t = e.getValue();
            ScalarType s = t.scalar_type().intern();
            out.put(e.getKey(), s == ScalarType.Half || s == ScalarType.BFloat16 ? t.to(ScalarType.Float) : t);
        }
        return out;
    }
}
