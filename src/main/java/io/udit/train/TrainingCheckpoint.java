package io.udit.train;

import io.udit.io.CheckpointFormatException;
import io.udit.io.TorchCheckpoint;
import io.udit.io.TorchCheckpointWriter;
import io.udit.model.Backbone;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.Optimizer;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.Tensor;

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

    public static void save(Path file, long step, Backbone model, Backbone ema, Optimizer optimizer,
                            Map<String, Object> args) throws IOException {
        Map<String, Object> tree = new LinkedHashMap<>();
        Map<String, Tensor> m = model.stateDictOnCpu(), e = ema.stateDictOnCpu();
        byte[] opt = optimizerBytes(optimizer, file.getParent());
        tree.put("model", new LinkedHashMap<>(m));
        tree.put("ema", new LinkedHashMap<>(e));
        tree.put("opt", opt);
        tree.put("args", args);
        tree.put("step", step);
        tree.put("format", "udit-training-checkpoint-1");
        tree.put("checksum", Checksums.of(m, e, opt, step));
        TorchCheckpointWriter.write(file, tree);
    }

    /** Loads model, EMA and optimizer state from a checkpoint written by {@link #save}. */
    @SuppressWarnings("unchecked")
    public static Loaded load(Path file, Backbone model, Backbone ema, Optimizer optimizer) throws IOException {
        Object tree = TorchCheckpoint.read(file);
        if (!(tree instanceof Map<?, ?> map) || !map.containsKey("model") || !map.containsKey("ema")) {
            throw CheckpointFormatException.of(file, "not a training checkpoint (needs 'model' and 'ema')");
        }
        Map<String, Tensor> m = stateDict(file, map.get("model"), "model"), e = stateDict(file, map.get("ema"), "ema");
        Object opt = map.get("opt");
        Object step0 = map.get("step");
        if (map.get("checksum") instanceof String recorded) {
            String actual = Checksums.of(m, e, opt instanceof byte[] b ? b : new byte[0], step0 instanceof Long l ? l : -1);
            if (!recorded.equals(actual)) {
                throw CheckpointFormatException.of(file, "checksum mismatch (recorded " + recorded + ", content " + actual
                        + "): the file is corrupted");
            }
        } else if ("udit-training-checkpoint-1".equals(map.get("format"))) {
            throw CheckpointFormatException.of(file, "udit checkpoint without a checksum");
        }
        model.loadStateDict(m);
        ema.loadStateDict(e);
        if (optimizer != null) {
            if (!(opt instanceof byte[] bytes)) {
                throw CheckpointFormatException.of(file, "no udit optimizer state ('opt' is "
                        + (opt == null ? "missing" : opt.getClass().getSimpleName()) + "); cannot resume exactly");
            }
            loadOptimizer(optimizer, bytes, file.getParent());
        }
        Object step = map.get("step");
        if (!(step instanceof Long s) || s < 0) throw CheckpointFormatException.of(file, "missing or invalid 'step'");
        Object args = map.get("args");
        return new Loaded(s, args instanceof Map<?, ?> a ? (Map<String, Object>) a : Map.of(), file);
    }

    private static Map<String, Tensor> stateDict(Path file, Object o, String key) throws IOException {
        if (!TorchCheckpoint.isStateDict(o)) throw CheckpointFormatException.of(file, "'" + key + "' is not a state dict");
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : ((Map<?, ?>) o).entrySet()) out.put((String) e.getKey(), (Tensor) e.getValue());
        return out;
    }

    /** Checkpoints in a folder, newest first. */
    public static List<Path> list(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return List.of();
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> NAME.matcher(p.getFileName().toString()).matches()).forEach(out::add);
        }
        out.sort(Comparator.comparingLong(TrainingCheckpoint::stepOf).reversed());
        return out;
    }

    public static long stepOf(Path p) {
        Matcher m = NAME.matcher(p.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /** Deletes all but the newest {@code keep} checkpoints. */
    public static void prune(Path dir, int keep) throws IOException {
        List<Path> all = list(dir);
        for (int i = keep; i < all.size(); i++) Files.deleteIfExists(all.get(i));
    }

    private static byte[] optimizerBytes(Optimizer optimizer, Path dir) throws IOException {
        Path tmp = Files.createTempFile(dir, ".opt-", ".tmp");
        try {
            OutputArchive archive = new OutputArchive();
            optimizer.save(archive);
            archive.save_to(tmp.toString());
            return Files.readAllBytes(tmp);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void loadOptimizer(Optimizer optimizer, byte[] bytes, Path dir) throws IOException {
        Path tmp = Files.createTempFile(dir, ".opt-", ".tmp");
        try {
            Files.write(tmp, bytes);
            InputArchive archive = new InputArchive();
            try {
                archive.load_from(tmp.toString());
                optimizer.load(archive);
            } catch (RuntimeException e) {
                throw new CheckpointFormatException("optimizer state does not load: " + e.getMessage().lines().findFirst().orElse(""), e);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
