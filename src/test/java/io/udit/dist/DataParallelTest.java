package io.udit.dist;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.io.TorchCheckpoint;
import io.udit.testing.Cli;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Two Gloo ranks with batch b each train to the weights of one process with batch 2b on the same samples. */
class DataParallelTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void init() {
        Engine.init();
    }

    Path microConfig() throws Exception {
        Path p = tmp.resolve("micro.json");
        Files.writeString(p, "{\"input_size\": 16, \"in_channels\": 3, \"hidden_size\": 16, \"num_heads\": 2, \"depth\": [1, 1, 1, 1, 1],"
                + " \"mlp_ratio\": 2, \"num_classes\": 4, \"attn_type\": \"v2\", \"posemb_type\": \"rope2d\", \"downsampler\": \"dwconv5\","
                + " \"down_shortcut\": 1}");
        return p;
    }

    List<String> train(Path config, Path run, int micro, String objective) {
        return new ArrayList<>(List.of("train", "--objective", objective, "--data", "synthetic:4", "--resolution", "16", "--config", config.toString(),
                "--run-dir", run.toString(), "--steps", "4", "--batch", "8", "--micro-batch", Integer.toString(micro),
                "--checkpoint-every", "4", "--sample-every", "0", "--log-every", "1", "--lr", "1e-3", "--seed", "3",
                "--workers", "1", "--dist-timeout", "30"));
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"ddpm", "flow"})
    void twoRanksMatchOneProcessWithTheDoubleBatch(String objective) throws Exception {
        Path config = microConfig(), single = tmp.resolve("single"), dual = tmp.resolve("dual");
        Cli.Result one = Cli.run(train(config, single, 8, objective).toArray(new String[0]));
        assertEquals(0, one.exitCode(), one.all());
        List<String> launch = new ArrayList<>(List.of("launch", "--nproc-per-node", "2", "--threads-per-proc", "1", "--"));
        launch.addAll(train(config, dual, 4, objective));
        Cli.Result two = Cli.run(launch.toArray(new String[0]));
        assertEquals(0, two.exitCode(), two.all());
        assertTrue(two.all().contains("rank 1 of 2 joined"), two.all());
        assertTrue(two.all().lines().noneMatch(l -> l.contains("[Gloo]")), "Gloo's connection report leaks: " + two.all());
        // the log reports the time gradient averaging takes per step (only distributed runs have it)
        String dualLog = java.nio.file.Files.readString(dual.resolve("log.jsonl"));
        assertTrue(dualLog.contains("\"allreduce_s\":"), dualLog);
        assertTrue(!java.nio.file.Files.readString(single.resolve("log.jsonl")).contains("allreduce_s"));

        Map<String, Tensor> a = TorchCheckpoint.readStateDict(single.resolve("checkpoints/step_0000004.pt"), "model");
        Map<String, Tensor> b = TorchCheckpoint.readStateDict(dual.resolve("checkpoints/step_0000004.pt"), "model");
        double worst = 0;
        for (String k : a.keySet()) worst = Math.max(worst, Tensors.relativeError(b.get(k), a.get(k)));
        System.out.println("worst relative weight difference, 2 ranks vs 1 process: " + worst);
        assertTrue(worst <= 1e-5, "weights differ: worst relative error " + worst);
        // and the weights did move
        Map<String, Tensor> init = TorchCheckpoint.readStateDict(single.resolve("checkpoints/step_0000004.pt"), "ema");
        assertTrue(Tensors.relativeError(a.get("x_embedder.proj.weight"), init.get("x_embedder.proj.weight")) > 0);
    }

    /** Rank 0 reads the checkpoint and sends weights, EMA and optimizer state: the resumed run ends where one uninterrupted ends. */
    @Test
    void aResumedTwoRankRunMatchesTheUninterruptedOne() throws Exception {
        Path config = microConfig(), whole = tmp.resolve("whole"), parts = tmp.resolve("parts");
        List<String> launch = List.of("launch", "--nproc-per-node", "2", "--threads-per-proc", "1", "--");
        List<String> full = new ArrayList<>(launch);
        full.addAll(train(config, whole, 4, "ddpm"));
        Cli.Result a = Cli.run(full.toArray(new String[0]));
        assertEquals(0, a.exitCode(), a.all());
        List<String> half = new ArrayList<>(launch);
        half.addAll(train(config, parts, 4, "ddpm"));
        half.set(half.indexOf("--steps") + 1, "2");
        half.set(half.indexOf("--checkpoint-every") + 1, "2");
        Cli.Result b = Cli.run(half.toArray(new String[0]));
        assertEquals(0, b.exitCode(), b.all());
        List<String> rest = new ArrayList<>(launch);
        rest.addAll(train(config, parts, 4, "ddpm"));
        rest.add("--resume");
        Cli.Result c = Cli.run(rest.toArray(new String[0]));
        assertEquals(0, c.exitCode(), c.all());
        assertTrue(c.all().contains("resuming from"), c.all());
        for (String part : List.of("model", "ema")) {
            Map<String, Tensor> x = TorchCheckpoint.readStateDict(whole.resolve("checkpoints/step_0000004.pt"), part);
            Map<String, Tensor> y = TorchCheckpoint.readStateDict(parts.resolve("checkpoints/step_0000004.pt"), part);
            for (String k : x.keySet()) assertTrue(Tensors.relativeError(y.get(k), x.get(k)) <= 1e-6, part + " " + k);
        }
    }

    /** Every rank evaluates (so none waits on rank 0 past the collectives' timeout); only rank 0 writes and logs. */
    @Test
    void evaluationDuringATwoRankRun() throws Exception {
        Path config = microConfig(), run = tmp.resolve("evaluated");
        Path runConfig = tmp.resolve("run.json");
        Files.writeString(runConfig, "{\"model\": " + Files.readString(config) + ", \"data\": \"synthetic:4\", \"resolution\": 16, \"eval\": {\"every\": 2, \"per_class\": 2, \"sampler\": \"ddim\","
                + " \"steps\": 2, \"judge_epochs\": 1, \"judge_samples\": 256}}");
        List<String> cmd = new ArrayList<>(List.of("launch", "--nproc-per-node", "2", "--threads-per-proc", "1", "--"));
        cmd.addAll(train(runConfig, run, 4, "ddpm"));
        Cli.Result r = Cli.run(cmd.toArray(new String[0]));
        assertEquals(0, r.exitCode(), r.all());
        long evals = Files.readAllLines(run.resolve("log.jsonl")).stream().filter(l -> l.contains("\"event\":\"eval\"")).count();
        assertEquals(2, evals, "steps 2 and 4, logged once");
        assertTrue(Files.isRegularFile(run.resolve("checkpoints/best.pt")));
        assertEquals(1, r.all().lines().filter(l -> l.contains("evaluation at step 4")).count(), "reported by rank 0 only: " + r.all());
    }

    @Test
    void mismatchedConfigsAndBadEnvironmentsFailClearly() throws Exception {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> DistEnv.fromEnvironment(Map.of("WORLD_SIZE", "2", "RANK", "5", "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", "29511"), 60_000));
        assertTrue(e.getMessage().contains("RANK"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> DistEnv.fromEnvironment(Map.of("WORLD_SIZE", "2", "MASTER_ADDR", "127.0.0.1"), 60_000));
        assertTrue(e.getMessage().contains("RANK is not set"), e.getMessage());
    }
}
