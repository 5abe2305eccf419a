package io.udit.dist;

import io.udit.engine.Engine;
import io.udit.io.TorchCheckpoint;
import io.udit.train.TrainingCheckpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Lost workers, bad rendezvous settings and mismatched configs end every rank with a clear message. */
class FailureTest {
    @TempDir
    Path tmp;

    /** Every rank this test started: none may outlive it, whether its assertions passed or not. */
    private final List<Process> started = new ArrayList<>();

    @BeforeAll
    static void init() {
        Engine.init();
    }

    @AfterEach
    void killRanks() throws Exception {
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (Process p : started) assertTrue(p.waitFor(30, TimeUnit.SECONDS), "rank process " + p.pid() + " did not end");
        started.clear();
    }

    Path config() throws Exception {
        Path p = tmp.resolve("micro.json");
        if (!Files.exists(p)) {
            Files.writeString(p, "{\"input_size\": 16, \"in_channels\": 3, \"hidden_size\": 16, \"num_heads\": 2, \"depth\": [1, 1, 1, 1, 1],"
                    + " \"mlp_ratio\": 2, \"num_classes\": 4, \"attn_type\": \"v2\", \"posemb_type\": \"rope2d\", \"downsampler\": \"dwconv5\","
                    + " \"down_shortcut\": 1}");
        }
        return p;
    }

    Process rank(int rank, int world, int port, Path run, String seed, long steps, double timeout) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"), "io.udit.cli.Main", "train",
                "--data", "synthetic:4", "--resolution", "16", "--config", config().toString(), "--run-dir", run.toString(),
                "--steps", Long.toString(steps), "--batch", "4", "--micro-batch", "2", "--checkpoint-every", "2", "--sample-every", "0",
                "--seed", seed, "--workers", "1", "--dist-timeout", Double.toString(timeout)));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("rank" + rank + "-" + seed + ".log").toFile());
        var env = pb.environment();
        env.put("RANK", Integer.toString(rank));
        env.put("WORLD_SIZE", Integer.toString(world));
        env.put("MASTER_ADDR", "127.0.0.1");
        env.put("MASTER_PORT", Integer.toString(port));
        env.put("OMP_NUM_THREADS", "1");
        env.put("OPENBLAS_NUM_THREADS", "1");
        Process p = pb.start();
        started.add(p);
        return p;
    }

    String log(int rank, String seed) throws Exception {
        return Files.readString(tmp.resolve("rank" + rank + "-" + seed + ".log"));
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void aLostWorkerStopsTheOthersWithItsRankAndTheCheckpointSurvives() throws Exception {
        int port = freePort();
        Path run = tmp.resolve("run");
        Process r0 = rank(0, 2, port, run, "1", 100_000, 5), r1 = rank(1, 2, port, run, "1", 100_000, 5);
        Path ckpts = run.resolve("checkpoints");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (TrainingCheckpoint.list(ckpts).isEmpty()) {
            assertTrue(r0.isAlive() && r1.isAlive(), "a rank ended early");
            assertTrue(System.nanoTime() < deadline, "no checkpoint");
            Thread.sleep(50);
        }
        r1.destroyForcibly();
        long t0 = System.nanoTime();
        assertTrue(r0.waitFor(60, TimeUnit.SECONDS), "rank 0 did not stop after rank 1 died");
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("rank 0 stopped %.1f s after rank 1 was killed%n", secs);
        assertEquals(3, r0.exitValue(), log(0, "1"));
        assertTrue(log(0, "1").contains("lost rank 1"), log(0, "1"));
        Path newest = TrainingCheckpoint.list(ckpts).get(0);
        assertFalse(TorchCheckpoint.readStateDict(newest, "model").isEmpty());
    }

    @Test
    void mismatchedConfigsFailOnEveryRank() throws Exception {
        int port = freePort();
        Process r0 = rank(0, 2, port, tmp.resolve("a"), "1", 2, 20), r1 = rank(1, 2, port, tmp.resolve("a"), "2", 2, 20);
        assertTrue(r0.waitFor(60, TimeUnit.SECONDS) && r1.waitFor(60, TimeUnit.SECONDS));
        assertEquals(2, r0.exitValue(), log(0, "1"));
        assertEquals(2, r1.exitValue(), log(1, "2"));
        assertTrue(log(0, "1").contains("different configuration") && log(1, "2").contains("different configuration"));
    }

    @Test
    void portInUseAndMissingMasterAreReported() throws Exception {
        try (ServerSocket taken = new ServerSocket(0)) {
            Process r0 = rank(0, 2, taken.getLocalPort(), tmp.resolve("b"), "1", 2, 5);
            assertTrue(r0.waitFor(60, TimeUnit.SECONDS));
            assertEquals(2, r0.exitValue(), log(0, "1"));
            assertTrue(log(0, "1").contains("in use"), log(0, "1"));
        }
        Process r1 = rank(1, 2, freePort(), tmp.resolve("c"), "3", 2, 3);
        assertTrue(r1.waitFor(60, TimeUnit.SECONDS));
        assertEquals(2, r1.exitValue(), log(1, "3"));
        assertTrue(log(1, "3").contains("could not reach the rendezvous"), log(1, "3"));
    }
}
