package io.udit.report.tensorboard;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * TensorBoard tags for the numbers of a {@code log.jsonl} line: training values under {@code train/}, speed and
 * memory under {@code perf/}, any other number under {@code eval/}; bookkeeping fields (step, steps_averaged) and
 * non-numbers (time, nulls) are left out.
 */
public final class LogTags {
    private static final Map<String, String> KNOWN = Map.ofEntries(
            Map.entry("loss", "train/loss"), Map.entry("mse", "train/mse"), Map.entry("vb", "train/vb"),
            Map.entry("grad_norm", "train/grad_norm"), Map.entry("lr", "train/lr"),
            Map.entry("steps_per_s", "perf/steps_per_s"), Map.entry("images_per_s", "perf/images_per_s"),
            Map.entry("data_wait_s", "perf/data_wait_s"), Map.entry("rss_mb", "perf/rss_mb"),
            Map.entry("allreduce_s", "perf/allreduce_s"));
    private static final java.util.Set<String> SKIPPED = java.util.Set.of("step", "steps_averaged");

    private LogTags() {}

    /** Tag to value for every number of {@code line}, in the line's order. */
    public static Map<String, Number> of(Map<String, ?> line) {
        Map<String, Number> out = new LinkedHashMap<>();
        line.forEach((key, value) -> {
            if (SKIPPED.contains(key) || !(value instanceof Number n)) return;
            out.put(KNOWN.getOrDefault(key, "eval/" + key), n);
        });
        return out;
    }
}
