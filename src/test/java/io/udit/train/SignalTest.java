package io.udit.train;

import io.udit.engine.Engine;
import io.udit.io.TorchCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SIGTERM during training writes a final checkpoint at the current step and exits cleanly (143). */
class SignalTest {
    @TempDir
    Path tmp;

    @Test
    void sigtermWritesAFinalCheckpoint() throws Exception {
        Engine.init();
        Path config = tmp.resolve("micro.json"), run = tmp.resolve("run");
        Files.writeString(config, "{\"input_size\": 16, \"in_channels\": 3, \"hidden_size\": 16, \"num_heads\": 2, \"depth\": [1, 1, 1, 1, 1],"
                + " \"mlp_ratio\": 2, \"num_classes\": 4, \"attn_type\": \"v2\", \"posemb_type\": \"rope2d\", \"downsampler\": \"dwconv5\","
                + " \"down_shortcut\": 1}");
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"), "io.udit.cli.Main", "train",
                "--data", "synthetic:4", "--resolution", "16", "--config", config.toString(), "--run-dir", run.toString(),
                "--steps", "100000", "--batch", "4", "--checkpoint-every", "1000", "--sample-every", "0", "--workers", "1"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile());
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().put("OPENBLAS_NUM_THREADS", "1");
        Process child = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        // wait for the first step line (every 50 steps; the run's "start" event line comes first)
        while (!Files.exists(run.resolve("log.jsonl")) || Files.readAllLines(run.resolve("log.jsonl")).stream().noneMatch(l -> l.contains("\"loss\""))) {
            assertTrue(child.isAlive() && System.nanoTime() < deadline, () -> read(tmp.resolve("child.log")));
            Thread.sleep(50);
        }
        child.destroy(); // SIGTERM
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), "did not stop after SIGTERM");
        String log = read(tmp.resolve("child.log"));
        assertEquals(143, child.exitValue(), log);
        assertTrue(log.contains("SIGTERM received") && log.contains("final checkpoint"), log);
        List<Path> ckpts = TrainingCheckpoint.list(run.resolve("checkpoints"));
        assertEquals(1, ckpts.size(), "one checkpoint, written at the stop");
        long step = TrainingCheckpoint.stepOf(ckpts.get(0));
        assertTrue(step >= 50 && step < 1000, "checkpoint at the interrupted step, got " + step);
        assertTrue(!TorchCheckpoint.readStateDict(ckpts.get(0), "ema").isEmpty());
    }

    static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (Exception e) {
            return "";
        }
    }
}
