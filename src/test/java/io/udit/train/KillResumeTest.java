package io.udit.train;

import io.udit.engine.Engine;
import io.udit.io.Json;
import io.udit.testing.Cli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SIGKILL a training process, resume it, and get exactly the losses of an uninterrupted run (one thread). */
class KillResumeTest {
    @TempDir
    Path tmp;

    String[] trainArgs(Path config, Path run, boolean resume) {
        List<String> a = new ArrayList<>(List.of("train", "--data", "synthetic:4", "--resolution", "16", "--config", config.toString(),
                "--run-dir", run.toString(), "--steps", "30", "--batch", "4", "--checkpoint-every", "3", "--keep", "2",
                "--sample-every", "0", "--log-every", "1", "--lr", "1e-3", "--seed", "7", "--workers", "1"));
        if (resume) a.add("--resume");
        return a.toArray(new String[0]);
    }

    static List<Double> losses(Path run) throws Exception {
        List<Double> out = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("log.jsonl"))) {
            if (Json.parseObject(line).get("loss") instanceof Number n) out.add(n.doubleValue()); // event lines have no loss
        }
        return out;
    }

    @Test
    void killedRunResumesToTheSameLosses() throws Exception {
        Engine.init();
        Path config = tmp.resolve("micro.json");
        Files.writeString(config, "{\"input_size\": 16, \"in_channels\": 3, \"hidden_size\": 16, \"num_heads\": 2, \"depth\": [1, 1, 1, 1, 1],"
                + " \"mlp_ratio\": 2, \"num_classes\": 4, \"attn_type\": \"v2\", \"posemb_type\": \"rope2d\", \"downsampler\": \"dwconv5\","
                + " \"down_shortcut\": 1}");
        Path reference = tmp.resolve("reference"), killed = tmp.resolve("killed");
        assertEquals(0, Cli.run(trainArgs(config, reference, false)).exitCode());

        // a separate JVM on the same classpath, killed with SIGKILL once a few checkpoints exist
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"), "io.udit.cli.Main"));
        cmd.addAll(List.of(trainArgs(config, killed, false)));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile());
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().put("OPENBLAS_NUM_THREADS", "1");
        Process child = pb.start();
        Path ckpts = killed.resolve("checkpoints");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (TrainingCheckpoint.list(ckpts).stream().noneMatch(p -> TrainingCheckpoint.stepOf(p) >= 9)) {
            assertTrue(child.isAlive(), () -> "child ended early: " + read(tmp.resolve("child.log")));
            assertTrue(System.nanoTime() < deadline, "no checkpoint after 120 s");
            Thread.sleep(20);
        }
        child.destroyForcibly(); // SIGKILL
        assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        long lastStep = TrainingCheckpoint.stepOf(TrainingCheckpoint.list(ckpts).get(0));
        assertTrue(lastStep < 30, "the child was killed before finishing (last checkpoint " + lastStep + ")");

        Cli.Result resumed = Cli.run(trainArgs(config, killed, true));
        assertEquals(0, resumed.exitCode(), resumed.all());
        assertTrue(resumed.err().contains("resuming from"), resumed.err());
        assertEquals(losses(reference), losses(killed), "loss sequence of the killed-and-resumed run");
    }

    static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (Exception e) {
            return "";
        }
    }
}
