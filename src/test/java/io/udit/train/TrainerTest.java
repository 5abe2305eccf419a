package io.udit.train;

import io.udit.data.Dataset;
import io.udit.data.SyntheticShapes;
import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.io.Json;
import io.udit.model.ModelConfig;
import io.udit.model.ModelConfigs;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void init() {
        Engine.init();
    }

    /** A very small U-DiT for 16x16 RGB with 4 classes. */
    public static ModelConfig microConfig() {
        return ModelConfigs.fromMap(Json.parseObject("{\"input_size\": 16, \"in_channels\": 3, \"hidden_size\": 16,"
                + " \"num_heads\": 2, \"depth\": [1, 1, 1, 1, 1], \"mlp_ratio\": 2, \"num_classes\": 4, \"learn_sigma\": true,"
                + " \"attn_type\": \"v2\", \"posemb_type\": \"rope2d\", \"downsampler\": \"dwconv5\", \"down_shortcut\": 1}"));
    }

    public static Dataset microData() {
        return new SyntheticShapes(3, 16, 512, 4);
    }

    static TrainConfig config(long steps, int checkpointEvery) {
        return new TrainConfig(microConfig(), 8, 4, steps, 1e-3, 0.0, 0.9, 0.999, 0.99, true, false, 1,
                1, checkpointEvery, 5, 0, 1, "ddim", 5, 1.0, "linear", 1000, true, 1, 1.0, 2, 0.0);
    }

    @Test
    void resumedRunRepeatsTheUninterruptedOneExactly() throws Exception {
        Trainer.Result full = new Trainer(config(6, 3), microData(), tmp.resolve("a"), false, null).run();
        new Trainer(config(3, 3), microData(), tmp.resolve("b"), false, null).run();
        Trainer.Result resumed = new Trainer(config(6, 3), microData(), tmp.resolve("b"), true, null).run();
        assertEquals(6, full.losses().size());
        assertEquals(full.losses().subList(3, 6), resumed.losses(), "loss sequence after resume");
        Map<String, Tensor> a = full.model().stateDict(), b = resumed.model().stateDict();
        Map<String, Tensor> ea = full.ema().stateDict(), eb = resumed.ema().stateDict();
        for (String k : a.keySet()) {
            assertEquals(0.0, Tensors.maxAbsDiff(a.get(k), b.get(k)), k);
            assertEquals(0.0, Tensors.maxAbsDiff(ea.get(k), eb.get(k)), "ema " + k);
        }
        // the log keeps one line per step, with no duplicates from the interrupted part
        List<String> lines = Files.readAllLines(tmp.resolve("b").resolve("log.jsonl"));
        assertEquals(6, lines.size());
        assertEquals(6L, ((Number) Json.parseObject(lines.get(5)).get("step")).longValue());
    }

    @Test
    void differentSeedsGiveDifferentRunsAndOutputsAreWritten() throws Exception {
        Path dir = tmp.resolve("c");
        TrainConfig c = config(4, 2);
        Trainer.Result r1 = new Trainer(c, microData(), dir, false, null).run();
        TrainConfig other = new TrainConfig(c.model(), 8, 4, 4, 1e-3, 0.0, 0.9, 0.999, 0.99, true, false, 2, 1, 2, 1, 2, 1,
                "ddim", 5, 1.0, "linear", 1000, true, 1, 1.0, 2, 0.0);
        Trainer.Result r2 = new Trainer(other, microData(), tmp.resolve("d"), false, null).run();
        assertNotEquals(r1.losses(), r2.losses());
        for (String f : List.of("config.json", "log.jsonl", "loss.png", "checkpoints/step_0000004.pt", "checkpoints/step_0000002.pt")) {
            assertTrue(Files.exists(dir.resolve(f)), f);
        }
        assertTrue(Files.exists(tmp.resolve("d").resolve("samples/step_0000004.png")));
        // keep = 1 prunes older checkpoints
        assertEquals(1, TrainingCheckpoint.list(tmp.resolve("d").resolve("checkpoints")).size());
    }

    @Test
    void timeCooldownLowersTheLearningRateToZeroByTheDeadline() throws Exception {
        TrainConfig c = config(1_000_000, 1_000_000);
        List<Double> lrs = new java.util.ArrayList<>();
        Trainer.Result r = new Trainer(c, microData(), tmp.resolve("cool"), false, s -> lrs.add(s.lr()))
                .withTimeBudget(java.time.Duration.ofSeconds(3), 1.0).run();
        assertTrue(r.finalStep() > c.warmupSteps() + 2 && r.finalStep() < c.steps(), "stopped by the clock at step " + r.finalStep());
        for (int i = c.warmupSteps() + 1; i < lrs.size(); i++) {
            assertTrue(lrs.get(i) <= lrs.get(i - 1), "learning rate rose at step " + (i + 1) + ": " + lrs);
        }
        assertTrue(lrs.get(lrs.size() - 1) < 0.5 * c.lr(), "last step's lr " + lrs.get(lrs.size() - 1) + " of " + c.lr());
        assertThrows(IllegalArgumentException.class, () -> new Trainer(c, microData(), tmp.resolve("x"), false, null)
                .withTimeBudget(java.time.Duration.ofSeconds(1), 1.5));

        List<Double> flat = new java.util.ArrayList<>(); // no cool-down: the peak rate until the deadline
        new Trainer(c, microData(), tmp.resolve("flat"), false, s -> flat.add(s.lr()))
                .withTimeBudget(java.time.Duration.ofSeconds(1)).run();
        for (int i = c.warmupSteps(); i < flat.size(); i++) assertEquals(c.lr(), flat.get(i), 0.0);
    }

    @Test
    void modelAndDataMustFit() {
        TrainConfig c = config(1, 1).withModel(microConfig().withInChannels(1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Trainer(c, microData(), tmp, false, null));
        assertTrue(e.getMessage().contains("channels"), e.getMessage());
    }
}
