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
