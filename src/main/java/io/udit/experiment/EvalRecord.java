package io.udit.experiment;

import io.udit.io.AtomicFiles;
import io.udit.io.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * One evaluation of one run (arm x seed) at one training fraction, as written to {@code R/eval/step_NNNNNNN.json}
 * the moment it is measured: the step, images seen, training FLOPs spent (3 x forward MACs x images seen), training
 * wall seconds so far, and the metrics (name -> value: {@code frechet_distance}, {@code fidelity}, and FID, sFID, IS,
 * precision, recall when Inception weights were given).
 */
public record EvalRecord(String arm, long seed, double fraction, long step, long imagesSeen, double trainFlops,
                         double trainSeconds, Map<String, Double> metrics) {

    public static final String DIR = "eval";

    public EvalRecord {
        metrics = Map.copyOf(metrics);
    }

    public static Path fileFor(Path runDir, long step) {
        return runDir.resolve(DIR).resolve(String.format("step_%07d.json", step));
    }

    public void write(Path runDir) throws IOException {
        Path f = fileFor(runDir, step);
        Files.createDirectories(f.getParent());
        AtomicFiles.write(f, Json.writePretty(toMap()).getBytes(StandardCharsets.UTF_8));
    }

    /** The run's records, by step; an empty list when it has none. */
    public static List<EvalRecord> readAll(Path runDir) throws IOException {
        Path dir = runDir.resolve(DIR);
        List<EvalRecord> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(p -> p.getFileName().toString().matches("step_\\d+\\.json")).sorted().toList()) {
                try {
                    out.add(fromMap(Json.parseObject(Files.readString(p, StandardCharsets.UTF_8))));
                } catch (RuntimeException e) {
                    throw new IOException(p + ": not an evaluation record (" + e.getMessage() + ")", e);
                }
            }
        }
        return out;
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("arm", arm);
        m.put("seed", seed);
        m.put("fraction", fraction);
        m.put("step", step);
        m.put("images_seen", imagesSeen);
        m.put("train_flops", trainFlops);
        m.put("train_seconds", trainSeconds);
        Map<String, Object> values = new java.util.TreeMap<>();
        metrics.forEach((k, v) -> values.put(k, Double.isFinite(v) ? v : null)); // JSON has no NaN
        m.put("metrics", values);
        return m;
    }

    static EvalRecord fromMap(Map<String, Object> m) {
        Map<String, Double> metrics = new LinkedHashMap<>();
        ((Map<?, ?>) m.get("metrics")).forEach((k, v) -> metrics.put(String.valueOf(k), v == null ? Double.NaN : ((Number) v).doubleValue()));
        return new EvalRecord((String) m.get("arm"), num(m, "seed").longValue(), num(m, "fraction").doubleValue(),
                num(m, "step").longValue(), num(m, "images_seen").longValue(), num(m, "train_flops").doubleValue(),
                num(m, "train_seconds").doubleValue(), metrics);
    }

    private static Number num(Map<String, Object> m, String key) {
        if (!(m.get(key) instanceof Number n)) throw new IllegalArgumentException(key + ": missing or not a number");
        return n;
    }
}
