package io.udit.train;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.io.TorchCheckpoint;
import io.udit.testing.Cli;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGKILL a training process at 20 random moments (all 20 must land before the run ends) (checkpoints are written every step, so many kills land inside a
 * write), resume each time; every resume must start from a valid checkpoint and the final weights, EMA and optimizer
 * state must equal those of an uninterrupted run (one thread).
 */
class RepeatedKillTest {
    static final int KILLS = Integer.getInteger("udit.test.kills", 20);

    @TempDir
    Path tmp;

    List<String> args(Path config, Path run, boolean resume) {
        List<String> a = new ArrayList<>(List.of("train", "--data", "synthetic:4", "--resolution", "16", "--config", config.toString(),
                "--run-dir", run.toString(), "--steps", "200", "--batch", "4", "--checkpoint-every", "1", "--keep", "2",
                "--sample-every", "0", "--log-every", "1", "--lr", "1e-3", "--seed", "5", "--workers", "1"));
        if (resume) a.add("--resume");
        return a;
    }

    @Test
    void twentyKillsThenTheSameWeights() throws Exception {
        Engine.init();
        Path config = tmp.resolve("micro.json");
        Files.writeString(config, "{\"input_size\": 16, \"in_channels\": 3, \"hidden_size\": 16, \"num_heads\": 2, \"depth\": [1, 1, 1, 1, 1],"
                + " \"mlp_ratio\": 2, \"num_classes\": 4, \"attn_type\": \"v2\", \"posemb_type\": \"rope2d\", \"downsampler\": \"dwconv5\","
                + " \"down_shortcut\": 1}");
        Path reference = tmp.resolve("reference"), killed = tmp.resolve("killed");
        assertEquals(0, Cli.run(args(config, reference, false).toArray(new String[0])).exitCode());

        String java = ProcessHandle.current().info().command().orElse("java");
        Random random = new Random(42);
        int kills = 0, finishedEarly = 0;
        long lastStep = 0;
        while (kills < KILLS) {
            List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"), "io.udit.cli.Main"));
            cmd.addAll(args(config, killed, true));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile());
            pb.environment().put("OMP_NUM_THREADS", "1");
            pb.environment().put("OPENBLAS_NUM_THREADS", "1");
            Process child = pb.start();
            // wait until this run has made progress (a new checkpoint), then kill at a random moment soon after
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (child.isAlive() && newest(killed) <= lastStep && System.nanoTime() < deadline) Thread.sleep(5);
            Thread.sleep(random.nextInt(300));
            if (!child.isAlive()) {
                finishedEarly++;
                break; // reached the last step before we could kill it
            }
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            kills++;
            long now = newest(killed);
            String log = Files.readString(tmp.resolve("child.log"));
            assertTrue(now >= lastStep, "checkpoints went backwards: " + lastStep + " -> " + now + "\n" + log);
            if (lastStep > 0) assertTrue(log.contains("resuming from"), "resume did not use a checkpoint:\n" + log);
            assertTrue(!log.contains("skipping checkpoint"), "a kill left a damaged checkpoint:\n" + log);
            lastStep = now;
        }
        // finish the run
        Cli.Result last = Cli.run(args(config, killed, true).toArray(new String[0]));
        assertEquals(0, last.exitCode(), last.all());
        System.out.printf("killed %d times (%d runs finished first); final weights compared%n", kills, finishedEarly);
        assertEquals(KILLS, kills, "every kill landed before the run could finish");
        Path ref = reference.resolve("checkpoints/step_0000200.pt"), got = killed.resolve("checkpoints/step_0000200.pt");
        for (String key : new String[] {"model", "ema"}) {
            Map<String, Tensor> a = TorchCheckpoint.readStateDict(ref, key), b = TorchCheckpoint.readStateDict(got, key);
            assertEquals(a.keySet(), b.keySet(), key);
            for (String k : a.keySet()) assertEquals(0.0, Tensors.maxAbsDiff(a.get(k), b.get(k)), key + "." + k);
        }
        // the optimizer state (AdamW moments and step counts): one more identical update from each state must give
        // identical weights
        Map<String, Tensor> nextA = oneMoreStep(ref, true), nextB = oneMoreStep(got, true), fresh = oneMoreStep(ref, false);
        double fromFresh = 0;
        for (String k : nextA.keySet()) {
            assertEquals(0.0, Tensors.maxAbsDiff(nextA.get(k), nextB.get(k)), "after one more step: " + k);
            fromFresh = Math.max(fromFresh, Tensors.maxAbsDiff(nextA.get(k), fresh.get(k)));
        }
        assertTrue(fromFresh > 0, "the restored optimizer state makes no difference: the comparison would be vacuous");
    }

    /** Loads a checkpoint's model (and optimizer state), applies one AdamW step with the gradient of 0.5 |w|^2, returns the weights. */
    static Map<String, Tensor> oneMoreStep(Path checkpoint, boolean withOptimizerState) throws Exception {
        RunConfig c = RunConfig.fromMap(io.udit.io.Json.parseObject(Files.readString(checkpoint.resolveSibling("../config.json").normalize())));
        io.udit.model.Backbone model = c.model().build(0);
        Ema ema = new Ema(model);
        List<Tensor> params = model.trainableParameters();
        FusedAdamW opt = new FusedAdamW(params, c.lr(), c.beta1(), c.beta2(), c.weightDecay());
        TrainingCheckpoint.load(checkpoint, model, ema.model(), withOptimizerState ? opt : null);
        opt.zeroGrad();
        Tensor loss = null;
        for (Tensor p : params) {
            Tensor term = p.mul(p).sum();
            loss = loss == null ? term : loss.add(term);
        }
        loss.mul(new org.bytedeco.pytorch.Scalar(0.5)).backward();
        opt.step();
        Map<String, Tensor> out = new java.util.LinkedHashMap<>();
        for (var e : model.stateDict().entrySet()) out.put(e.getKey(), e.getValue().clone());
        return out;
    }

    static long newest(Path run) throws Exception {
        List<Path> l = TrainingCheckpoint.list(run.resolve("checkpoints"));
        return l.isEmpty() ? 0 : TrainingCheckpoint.stepOf(l.get(0));
    }
}
