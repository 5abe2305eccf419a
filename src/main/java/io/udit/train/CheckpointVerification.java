package io.udit.train;

import io.udit.io.CheckpointFormatException;
import io.udit.io.TorchCheckpoint;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The checksum check of a loaded training checkpoint, for every reader (sample, forward, convert, the Java API), not
 * only for --resume: a tree with a "checksum" entry must match the CRC-32C of its model, EMA, optimizer state and step.
 */
public final class CheckpointVerification {
    private CheckpointVerification() {}

    /** Whether the tree carries a checksum (only udit training checkpoints do). */
    public static boolean hasChecksum(Object tree) {
        return tree instanceof Map<?, ?> m && m.get("checksum") instanceof String;
    }

    /**
     * Checks the recorded checksum against the content; a udit checkpoint without one is refused too. Trees without a
     * checksum that do not claim the udit format (reference checkpoints, bare state dicts) pass unchanged.
     */
    public static void verify(Path file, Object tree) throws CheckpointFormatException {
        if (!(tree instanceof Map<?, ?> map)) return;
        if (!(map.get("checksum") instanceof String recorded)) {
            if ("udit-training-checkpoint-1".equals(map.get("format"))) throw CheckpointFormatException.of(file, "udit checkpoint without a checksum");
            return;
        }
        Map<String, Tensor> m = stateDict(file, map.get("model"), "model"), e = stateDict(file, map.get("ema"), "ema");
        Object opt = map.get("opt");
        long step = map.get("step") instanceof Long l ? l : -1;
        if (!(opt instanceof Tensor t && t.scalar_type().intern() == ScalarType.Byte)) {
            throw CheckpointFormatException.of(file, "checksummed checkpoint whose 'opt' is not a uint8 tensor");
        }
        String actual = Checksums.of(m, e, t, step);
        if (!recorded.equals(actual)) {
            throw CheckpointFormatException.of(file, "checksum mismatch (recorded " + brief(recorded) + ", content " + actual
                    + "): the file is corrupted (--no-verify reads it anyway)");
        }
    }

    /** {@code tree[key]} of a checkpoint as a state dict; anything else is a format error naming the file and key. */
    static Map<String, Tensor> stateDict(Path file, Object o, String key) throws CheckpointFormatException {
        if (!TorchCheckpoint.isStateDict(o)) throw CheckpointFormatException.of(file, "'" + key + "' is not a state dict");
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var en : ((Map<?, ?>) o).entrySet()) out.put((String) en.getKey(), (Tensor) en.getValue());
        return out;
    }

    /** Bounded rendering of a recorded string. */
    private static String brief(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }
}
