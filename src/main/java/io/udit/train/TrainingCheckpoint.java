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
        Tensor opt = optimizerState(optimizer, file.getParent());
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
            long stepValue = step0 instanceof Long l ? l : -1;
            String actual = opt instanceof Tensor t && t.scalar_type().intern() == org.bytedeco.pytorch.global.torch.ScalarType.Byte
                    ? Checksums.of(m, e, t, stepValue) : Checksums.of(m, e, opt instanceof byte[] b ? b : new byte[0], stepValue);
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
            if (opt instanceof Tensor t && t.scalar_type().intern() == org.bytedeco.pytorch.global.torch.ScalarType.Byte && t.dim() == 1) {
                loadOptimizer(optimizer, f -> writeTensor(t, f), file.getParent());
            } else if (opt instanceof byte[] bytes) { // checkpoints written before the state became a tensor
                loadOptimizer(optimizer, f -> Files.write(f, bytes), file.getParent());
            } else {
                throw CheckpointFormatException.of(file, "no udit optimizer state ('opt' is "
                        + (opt == null ? "missing" : opt.getClass().getSimpleName()) + "); cannot resume exactly");
            }
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

    /**
     * libtorch's serialized optimizer state as a 1-D uint8 tensor: the checkpoint writer streams it as one storage
     * from native memory, so a large model's Adam state (1.6 GB for U-DiT-B) never passes through the Java heap.
     */
    private static Tensor optimizerState(Optimizer optimizer, Path dir) throws IOException {
        Path tmp = Files.createTempFile(dir, ".opt-", ".tmp");
        try {
            OutputArchive archive = new OutputArchive();
            optimizer.save(archive);
            archive.save_to(tmp.toString());
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(tmp)) {
                long n = ch.size();
                Tensor t = io.udit.engine.Tensors.empty(org.bytedeco.pytorch.global.torch.ScalarType.Byte, n); // filled from the file below
                for (long off = 0; off < n; ) {
                    java.nio.ByteBuffer window = window(t, off, Math.min(1L << 30, n - off));
                    while (window.hasRemaining()) {
                        if (ch.read(window, off + window.position()) < 0) throw new java.io.EOFException("optimizer state file shrank");
                    }
                    off += window.capacity();
                }
                return t;
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    interface StateWriter {
        void write(Path file) throws IOException;
    }

    private static void writeTensor(Tensor state, Path file) throws IOException {
        Tensor t = state.contiguous();
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            long n = t.nbytes();
            for (long off = 0; off < n; ) {
                java.nio.ByteBuffer window = window(t, off, Math.min(1L << 30, n - off));
                while (window.hasRemaining()) ch.write(window, off + window.position());
                off += window.capacity();
            }
        }
        java.lang.ref.Reference.reachabilityFence(t);
    }

    private static void loadOptimizer(Optimizer optimizer, StateWriter state, Path dir) throws IOException {
        Path tmp = Files.createTempFile(dir, ".opt-", ".tmp");
        try {
            state.write(tmp);
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

    /** A ByteBuffer over bytes [off, off + len) of a contiguous CPU tensor's memory (len <= 1 GB). */
    private static java.nio.ByteBuffer window(Tensor t, long off, long len) {
        return new org.bytedeco.javacpp.BytePointer(t.data_ptr()).position(off).limit(off + len).asByteBuffer();
    }
}
