package io.udit.train;

import io.udit.io.CheckpointFormatException;
import io.udit.io.TorchCheckpoint;
import io.udit.io.TorchCheckpointWriter;
import io.udit.model.Backbone;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Training checkpoints as torch.save-compatible zip files holding {model, ema, opt, args, step}, like the
 * reference's checkpoints (so Python can torch.load them); "opt" holds libtorch's own serialised optimizer state
 * (bytes), restored exactly on resume. Files are written atomically and named step_NNNNNNN.pt.
 */
public final class TrainingCheckpoint {
    private TrainingCheckpoint() {}

    private static final Pattern NAME = Pattern.compile("step_(\\d+)\\.pt");

    public record Loaded(long step, Map<String, Object> args, Path file) {}

    public static Path fileFor(Path dir, long step) {
        return dir.resolve(String.format("step_%07d.pt", step));
    }

    public static void save(Path file, long step, Backbone model, Backbone ema, FusedAdamW optimizer,
                            Map<String, Object> args) throws IOException {
        Map<String, Object> tree = new LinkedHashMap<>();
        Map<String, Tensor> m = model.stateDictOnCpu(), e = ema.stateDictOnCpu();
        Tensor opt = OptimizerState.serialize(optimizer);
        tree.put("model", new LinkedHashMap<>(m));
        tree.put("ema", new LinkedHashMap<>(e));
        tree.put("opt", opt);
        tree.put("args", args);
        tree.put("step", step);
        tree.put("format", "udit-training-checkpoint-1");
        tree.put("checksum", Checksums.of(m, e, opt, step));
        TorchCheckpointWriter.write(file, tree);
    }

    /**
     * Loads model, EMA and optimizer state from a checkpoint written by {@link #save}. A damaged file (format or
     * checksum) is a {@link CheckpointFormatException}; weights of another architecture are a
     * {@link Backbone.StateDictMismatchException}; any other IOException is a failure to read, not a verdict on the file.
     */
    @SuppressWarnings("unchecked")
    public static Loaded load(Path file, Backbone model, Backbone ema, FusedAdamW optimizer) throws IOException {
        Object tree = TorchCheckpoint.read(file);
        if (!(tree instanceof Map<?, ?> map) || !map.containsKey("model") || !map.containsKey("ema")) {
            throw CheckpointFormatException.of(file, "not a training checkpoint (needs 'model' and 'ema')");
        }
        Map<String, Tensor> m = CheckpointVerification.stateDict(file, map.get("model"), "model");
        Map<String, Tensor> e = CheckpointVerification.stateDict(file, map.get("ema"), "ema");
        if (!(map.get("step") instanceof Long step) || step < 0) throw CheckpointFormatException.of(file, "missing or invalid 'step'");
        if (!(map.get("opt") instanceof Tensor opt) || opt.scalar_type().intern() != ScalarType.Byte || opt.dim() != 1) {
            throw CheckpointFormatException.of(file, "no udit optimizer state ('opt' must be a 1-d uint8 tensor); cannot resume exactly");
        }
        if (!CheckpointVerification.hasChecksum(map)) throw CheckpointFormatException.of(file, "udit checkpoint without a checksum");
        CheckpointVerification.verify(file, map);
        model.loadStateDict(m);
        ema.loadStateDict(e);
        if (optimizer != null) {
            try {
                OptimizerState.load(optimizer, opt);
            } catch (RuntimeException ex) {
                throw CheckpointFormatException.of(file, "optimizer state does not load: " + ex.getMessage().lines().findFirst().orElse(""));
            }
        }
        Object args = map.get("args");
        return new Loaded(step, args instanceof Map<?, ?> a ? (Map<String, Object>) a : Map.of(), file);
    }

    /**
     * Checkpoints in a folder, newest first by the step in their names. A name that looks like a checkpoint but whose
     * step does not parse (e.g. more digits than a step can have) is reported once through {@code warn} and ignored.
     */
    public static List<Path> list(Path dir, java.util.function.Consumer<String> warn) throws IOException {
        if (!Files.isDirectory(dir)) return List.of();
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (!NAME.matcher(p.getFileName().toString()).matches()) continue;
                if (stepOf(p) < 0) warn.accept("ignoring " + p + ": the step in its name is not a valid step number");
                else out.add(p);
            }
        }
        out.sort(Comparator.comparingLong(TrainingCheckpoint::stepOf).reversed());
        return out;
    }

    /** {@link #list(Path, java.util.function.Consumer)} without warnings. */
    public static List<Path> list(Path dir) throws IOException {
        return list(dir, w -> {});
    }

    /** The step in a checkpoint's name, or -1 when the name is not a checkpoint name with a valid step. */
    public static long stepOf(Path p) {
        Matcher m = NAME.matcher(p.getFileName().toString());
        if (!m.matches() || m.group(1).length() > 18) return -1;
        return Long.parseLong(m.group(1));
    }

    /** Deletes all but the newest {@code keep} checkpoints. */
    public static void prune(Path dir, int keep) throws IOException {
        List<Path> all = list(dir);
        for (int i = keep; i < all.size(); i++) Files.deleteIfExists(all.get(i));
    }
}
