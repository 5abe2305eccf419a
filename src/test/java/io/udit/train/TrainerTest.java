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
import java.util.ArrayList;
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

    static RunConfig.Builder builder(long steps, int checkpointEvery) {
        return RunConfig.builder(microConfig(), "synthetic:4").batch(8, 4).steps(steps).lr(1e-3).emaDecay(0.99).emaWarmup(true)
                .seed(1).logEvery(1).checkpointEvery(checkpointEvery).keepCheckpoints(5).sampleEvery(0).previewPerClass(1)
                .previewSteps(5).clipDenoised(true).loaderWorkers(1).gradClip(1.0).warmupSteps(2);
    }

    static RunConfig config(long steps, int checkpointEvery) {
        return builder(steps, checkpointEvery).build();
    }

    @Test
    void resumedRunRepeatsTheUninterruptedOneExactly() throws Exception {
        Trainer.Result full = new Trainer(config(6, 3), microData(), tmp.resolve("a"), RunFolder.Start.NEW, null).run();
        new Trainer(config(3, 3), microData(), tmp.resolve("b"), RunFolder.Start.NEW, null).run();
        Trainer.Result resumed = new Trainer(config(6, 3), microData(), tmp.resolve("b"), RunFolder.Start.RESUME, null).run();
        assertEquals(6, full.losses().size());
        assertEquals(full.losses().subList(3, 6), resumed.losses(), "loss sequence after resume");
        Map<String, Tensor> a = full.model().stateDict(), b = resumed.model().stateDict();
        Map<String, Tensor> ea = full.ema().stateDict(), eb = resumed.ema().stateDict();
        for (String k : a.keySet()) {
            assertEquals(0.0, Tensors.maxAbsDiff(a.get(k), b.get(k)), k);
            assertEquals(0.0, Tensors.maxAbsDiff(ea.get(k), eb.get(k)), "ema " + k);
        }
        // the log keeps one line per step, with no duplicates from the interrupted part
        List<String> lines = Files.readAllLines(tmp.resolve("b").resolve("log.jsonl")).stream().filter(l -> l.contains("\"loss\"")).toList();
        assertEquals(6, lines.size());
        assertEquals(6L, ((Number) Json.parseObject(lines.get(5)).get("step")).longValue());
    }

    @Test
    void differentSeedsGiveDifferentRunsAndOutputsAreWritten() throws Exception {
        Path dir = tmp.resolve("c");
        RunConfig c = config(4, 2);
        Trainer.Result r1 = new Trainer(c, microData(), dir, RunFolder.Start.NEW, null).run();
        RunConfig other = builder(4, 2).seed(2).keepCheckpoints(1).sampleEvery(2).build();
        Trainer.Result r2 = new Trainer(other, microData(), tmp.resolve("d"), RunFolder.Start.NEW, null).run();
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
        RunConfig c = config(1_000_000, 1_000_000);
        // the budget holds about 12 steps at this machine's current speed (3 s at least), so that a busy machine
        // still trains past the warm-up before the clock stops it
        long t0 = System.nanoTime();
        new Trainer(config(3, 1_000_000), microData(), tmp.resolve("cool-probe"), RunFolder.Start.NEW, null).run();
        double perStep = (System.nanoTime() - t0) / 1e9 / 3;
        java.time.Duration budget = java.time.Duration.ofMillis(Math.max(3000, (long) (12_000 * perStep)));
        List<Double> lrs = new java.util.ArrayList<>();
        Trainer.Result r = new Trainer(c, microData(), tmp.resolve("cool"), RunFolder.Start.NEW, s -> lrs.add(s.lr()))
                .withTimeBudget(budget, 1.0).run();
        assertTrue(r.finalStep() > c.warmupSteps() + 2 && r.finalStep() < c.steps(), "stopped by the clock at step " + r.finalStep());
        for (int i = c.warmupSteps() + 1; i < lrs.size(); i++) {
            assertTrue(lrs.get(i) <= lrs.get(i - 1), "learning rate rose at step " + (i + 1) + ": " + lrs);
        }
        assertTrue(lrs.get(lrs.size() - 1) < 0.5 * c.lr(), "last step's lr " + lrs.get(lrs.size() - 1) + " of " + c.lr());
        assertThrows(IllegalArgumentException.class, () -> new Trainer(c, microData(), tmp.resolve("x"), RunFolder.Start.NEW, null)
                .withTimeBudget(java.time.Duration.ofSeconds(1), 1.5));

        List<Double> flat = new java.util.ArrayList<>(); // no cool-down: the peak rate until the deadline
        new Trainer(c, microData(), tmp.resolve("flat"), RunFolder.Start.NEW, s -> flat.add(s.lr()))
                .withTimeBudget(java.time.Duration.ofSeconds(1)).run();
        for (int i = c.warmupSteps(); i < flat.size(); i++) assertEquals(c.lr(), flat.get(i), 0.0);
    }

    @Test
    void activationCheckpointingTrainsTheSameRun() throws Exception {
        // with clipping and accumulation (which need every gradient first) the update runs after the backward
        Trainer.Result clippedPlain = new Trainer(config(3, 3), microData(), tmp.resolve("clipped-plain"), RunFolder.Start.NEW, null).run();
        Trainer.Result clippedCkpt = new Trainer(builder(3, 3).checkpointActivations(true).build(), microData(),
                tmp.resolve("clipped-ckpt"), RunFolder.Start.NEW, null).run();
        for (int i = 0; i < 3; i++) {
            assertEquals(clippedPlain.losses().get(i), clippedCkpt.losses().get(i), 1e-6 * Math.abs(clippedPlain.losses().get(i)));
        }
        Map<String, Tensor> ca = clippedPlain.model().stateDict(), cb = clippedCkpt.model().stateDict();
        for (String k : ca.keySet()) assertTrue(Tensors.relativeError(cb.get(k), ca.get(k)) < 1e-5, k);

        // without them, checkpointed, the trainer updates each block within the backward (BlockwiseAdamW): same
        // losses, gradient norms and weights
        RunConfig.Builder unclipped = builder(3, 3).gradClip(0).batch(4, 4);
        List<Double> normsPlain = new ArrayList<>(), normsCkpt = new ArrayList<>();
        Trainer.Result plain = new Trainer(unclipped.build(), microData(), tmp.resolve("plain"), RunFolder.Start.NEW,
                s -> normsPlain.add(s.gradNorm())).run();
        Trainer.Result ckpt = new Trainer(unclipped.checkpointActivations(true).build(), microData(), tmp.resolve("ckpt"),
                RunFolder.Start.NEW, s -> normsCkpt.add(s.gradNorm())).run();
        for (int i = 0; i < 3; i++) assertEquals(plain.losses().get(i), ckpt.losses().get(i), 1e-6 * Math.abs(plain.losses().get(i)));
        for (int i = 0; i < 3; i++) assertEquals(normsPlain.get(i), normsCkpt.get(i), 1e-5 * normsPlain.get(i), "gradient norm, step " + (i + 1));
        Map<String, Tensor> a = plain.model().stateDict(), b = ckpt.model().stateDict();
        for (String k : a.keySet()) assertTrue(Tensors.relativeError(b.get(k), a.get(k)) < 1e-5, k);
        // the finished run leaves no optimizer attached: a later backward through its model changes no weight
        Map<String, Tensor> before = new java.util.LinkedHashMap<>();
        for (var e : b.entrySet()) before.put(e.getKey(), e.getValue().detach().clone());
        int n = 2, side = ckpt.model().config().inputSize(), ch = ckpt.model().config().inChannels();
        Tensor x = org.bytedeco.pytorch.global.torch.randn(n, ch, side, side);
        ckpt.model().forward(x, Tensors.longs(5, 500), Tensors.longs(0, 1)).square().mean().backward();
        for (var e : b.entrySet()) assertEquals(0.0, Tensors.maxAbsDiff(e.getValue(), before.get(e.getKey())), e.getKey());
    }

    @Test
    void modelAndDataMustFit() {
        RunConfig c = builder(1, 1).model(microConfig().withInChannels(1)).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Trainer(c, microData(), tmp, RunFolder.Start.NEW, null));
        assertTrue(e.getMessage().contains("channels"), e.getMessage());
    }
}
