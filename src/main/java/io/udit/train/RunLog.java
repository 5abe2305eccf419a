package io.udit.train;

import io.udit.io.AtomicFiles;
import io.udit.io.Json;
import io.udit.report.TrainingPlot;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The run's JSONL log ({@code log.jsonl}: one line per logged step, plus {@code "event"} lines such as a resume) and
 * the training plot. Lines are only ever appended. When a run resumes from an earlier step, the lines past that step
 * (and a torn last line) are first appended to {@code log.superseded.jsonl}, then {@code log.jsonl} is replaced
 * atomically without them: nothing logged is lost, and {@code log.jsonl} always describes one consistent history.
 */
final class RunLog {
    static final String FILE = "log.jsonl", SUPERSEDED = "log.superseded.jsonl";

    private final Path log;

    private RunLog(Path log) {
        this.log = log;
    }

    /** Opens the log of a run that continues after {@code resumeStep} (0 for a new run). */
    static RunLog open(Path runDir, long resumeStep) throws IOException {
        RunLog h = new RunLog(runDir.resolve(FILE));
        if (!Files.exists(h.log)) return h;
        List<String> kept = new ArrayList<>(), superseded = new ArrayList<>();
        for (String line : Files.readAllLines(h.log, StandardCharsets.UTF_8)) {
            Map<String, Object> m;
            try {
                m = Json.parseObject(line);
            } catch (RuntimeException e) {
                superseded.add(line); // a torn last line of a killed run
                continue;
            }
            long s = m.get("step") instanceof Number n ? n.longValue() : Long.MAX_VALUE;
            if (s > resumeStep) {
                superseded.add(line);
                continue;
            }
            kept.add(line);
        }
        if (!superseded.isEmpty()) {
            Path side = runDir.resolve(SUPERSEDED);
            try (var ch = java.nio.channels.FileChannel.open(side, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
                AtomicFiles.writeFully(ch, java.nio.ByteBuffer.wrap((String.join("\n", superseded) + "\n").getBytes(StandardCharsets.UTF_8)));
                ch.force(true);
            }
            AtomicFiles.write(h.log, (String.join("\n", kept) + (kept.isEmpty() ? "" : "\n")).getBytes(StandardCharsets.UTF_8));
            System.err.println("moved " + superseded.size() + " log line(s) past step " + resumeStep + " to " + side);
        }
        return h;
    }

    /** A line for one logging window: means over the steps since the previous line; returns what was logged. */
    Map<String, Object> log(Trainer.StepStats s, int globalBatch, long window) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", s.step());
        m.put("steps_averaged", window);
        m.put("loss", finite(s.loss()));
        m.put("mse", finite(s.mse()));
        m.put("vb", finite(s.vb()));
        m.put("grad_norm", finite(s.gradNorm()));
        m.put("lr", s.lr());
        m.put("steps_per_s", s.stepsPerSecond());
        m.put("images_per_s", s.stepsPerSecond() * globalBatch);
        m.put("data_wait_s", s.dataWaitSeconds());
        m.put("rss_mb", s.rssBytes() / 1e6);
        if (s.allreduceSeconds() > 0) m.put("allreduce_s", s.allreduceSeconds()); // gradient averaging per step
        m.put("time", java.time.Instant.now().toString());
        append(m);
        return m;
    }

    /** An event line: {@code {"event": name, "step": step, ...details}}. */
    void event(String name, long step, Map<String, Object> details) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", name);
        m.put("step", step);
        m.putAll(details);
        m.put("time", java.time.Instant.now().toString());
        append(m);
    }

    private void append(Map<String, Object> m) {
        try {
            Files.writeString(log, Json.write(m) + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + log + ": " + e.getMessage(), e);
        }
    }

    /** JSON has no NaN/Inf: such values are logged as null. */
    static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    /** The training plot (loss, learning rate, gradient norm over steps) from the log. */
    void plot(Path png) throws IOException {
        AtomicFiles.write(png, TrainingPlot.png(TrainingPlot.readLog(log)));
    }
}
