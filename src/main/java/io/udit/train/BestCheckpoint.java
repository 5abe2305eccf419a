package io.udit.train;

import io.udit.io.AtomicFiles;
import io.udit.io.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The run's best checkpoint by its evaluation metric: {@code checkpoints/best.pt} (a training checkpoint like the
 * others, so it samples and resumes alike, but never pruned) and {@code checkpoints/best.json} (the metric, its value,
 * the step and every figure of that evaluation), which a resumed run reads to keep comparing against.
 */
final class BestCheckpoint {
    static final String FILE = "best.pt", RECORD = "best.json";

    private BestCheckpoint() {}

    /** The best value recorded for {@code metric}, or null when there is none (or it was chosen by another metric). */
    static Double read(Path ckptDir, String metric) {
        Path f = ckptDir.resolve(RECORD);
        if (!Files.isRegularFile(f)) return null;
        try {
            Map<String, Object> m = Json.parseObject(Files.readString(f, StandardCharsets.UTF_8));
            if (!metric.equals(m.get("metric"))) {
                System.err.println("note: " + f + " was chosen by " + m.get("metric") + "; the best by " + metric + " starts anew");
                return null;
            }
            return m.get("value") instanceof Number n ? n.doubleValue() : null;
        } catch (IOException | RuntimeException e) {
            System.err.println("note: " + f + " is unreadable (" + e.getMessage() + "); the best checkpoint starts anew");
            return null;
        }
    }

    static boolean improves(double value, Double best, boolean lowerIsBetter) {
        return best == null || (lowerIsBetter ? value < best : value > best);
    }

    static void write(Path ckptDir, String metric, double value, long step, Map<String, Double> metrics) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("metric", metric);
        m.put("value", value);
        m.put("step", step);
        Map<String, Object> all = new LinkedHashMap<>();
        metrics.forEach((k, v) -> all.put(k, RunLog.finite(v)));
        m.put("metrics", all);
        AtomicFiles.write(ckptDir.resolve(RECORD), Json.writePretty(m).getBytes(StandardCharsets.UTF_8));
    }
}
