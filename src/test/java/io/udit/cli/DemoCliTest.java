package io.udit.cli;

import io.udit.io.Json;
import io.udit.testing.Cli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `udit demo` end to end at toy scale: training as a two-process data-parallel job, sampling, metrics, report. */
class DemoCliTest {
    @Test
    void demoTrainsInTwoProcessesAndWritesItsReport(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("run");
        Cli.Result r = Cli.run("demo", "--steps", "3", "--minutes", "5", "--per-class", "2", "--sampler-steps", "4",
                "--procs", "2", "--out", dir.toString());
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.err().contains("in 2 processes"), r.err());
        for (String f : List.of("report.md", "grid.png", "loss.png", "metrics.json", "samples.npz", "log.jsonl", "config.json")) {
            assertTrue(Files.size(dir.resolve(f)) > 0, f);
        }
        Map<String, Object> m = Json.parseObject(Files.readString(dir.resolve("metrics.json")));
        assertEquals(3.0, ((Number) m.get("train_steps")).doubleValue());
        assertEquals(2.0, ((Number) m.get("train_processes")).doubleValue());
        double fidelity = ((Number) m.get("class_fidelity")).doubleValue();
        assertTrue(fidelity >= 0 && fidelity <= 1, "fidelity " + fidelity);
        // a data-parallel step averages gradients over the ranks and logs how long that took
        String log = Files.readString(dir.resolve("log.jsonl"));
        assertTrue(log.contains("\"allreduce_s\""), log);
        String report = Files.readString(dir.resolve("report.md"));
        assertTrue(report.contains("class fidelity") && report.contains("grid.png"), report);
    }

    @Test
    void badProcessCountIsAUserError(@TempDir Path tmp) {
        Cli.Result r = Cli.run("demo", "--procs", "3", "--steps", "1", "--out", tmp.resolve("x").toString());
        assertEquals(2, r.exitCode(), r.all());
        assertTrue(r.err().contains("--procs must divide the batch"), r.err());
        Cli.Result s = Cli.run("demo", "--sampler", "euler", "--steps", "1", "--out", tmp.resolve("y").toString());
        assertEquals(2, s.exitCode(), s.all());
        assertTrue(s.err().contains("sampler must be"), s.err());
        assertTrue(!Files.exists(tmp.resolve("y").resolve("checkpoints")), "nothing trained");
    }
}
