package io.udit.model;

import io.udit.diffusion.GaussianDiffusion;
import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.io.Json;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Activation checkpointing gives the losses and gradients of the plain graph (U-DiT and DiT, micro sizes). */
class ActivationCheckpointingTest {
    @BeforeAll
    static void init() {
        Engine.init();
    }

    static final String UDIT = "{\"input_size\": 16, \"in_channels\": 4, \"hidden_size\": 16, \"num_heads\": 2,"
            + " \"depth\": [1, 2, 1, 1, 2], \"mlp_ratio\": 2, \"num_classes\": 5, \"attn_type\": \"v2\","
            + " \"posemb_type\": \"rope2d\", \"downsampler\": \"dwconv5\", \"down_shortcut\": 1}";
    static final String DIT = "{\"family\": \"dit\", \"input_size\": 8, \"in_channels\": 4, \"hidden_size\": 32,"
            + " \"patch_size\": 2, \"num_heads\": 2, \"depth\": 3, \"num_classes\": 5}";

    @Test
    void uditLossAndGradientsMatchWithoutCheckpointing() {
        compare(UDIT);
    }

    @Test
    void ditLossAndGradientsMatchWithoutCheckpointing() {
        compare(DIT);
    }

    /**
     * The backward of a checkpointed forward runs from Java gradient hooks that libtorch references only weakly: a
     * garbage collection between the forward and its backward must not take them (it did: the backward failed).
     */
    @Test
    void aGarbageCollectionBetweenForwardAndBackwardChangesNothing() {
        compare(UDIT, true);
        compare(DIT, true);
    }

    /**
     * The block gradient sink receives every block parameter once, after the block's backward, with its gradient
     * already complete (equal to the plain graph's whole gradient), and nothing outside the blocks.
     */
    @Test
    void theSinkGetsEachBlocksParametersWithTheirFinalGradients() {
        for (String json : new String[] {UDIT, DIT}) {
            ModelConfig config = ModelConfigs.fromMap(Json.parseObject(json));
            Map<String, Tensor> plain = new LinkedHashMap<>(), delivered = new LinkedHashMap<>();
            step(config, false, plain, false, null);
            step(config, true, new LinkedHashMap<>(), false, delivered);
            java.util.Set<String> blockParams = new java.util.TreeSet<>();
            for (String k : plain.keySet()) {
                if (k.startsWith("blocks.") || java.util.Arrays.stream(UDiT.LEVEL_NAMES).anyMatch(l -> k.startsWith(l + "."))) blockParams.add(k);
            }
            assertTrue(blockParams.size() > 10, "block parameters found: " + blockParams.size());
            assertEquals(blockParams, new java.util.TreeSet<>(delivered.keySet()), config.family());
            for (String k : blockParams) {
                double err = Tensors.relativeError(delivered.get(k), plain.get(k));
                assertTrue(err <= 1e-6, k + ": gradient at delivery, relative error " + err);
            }
        }
    }

    private static void compare(String json) {
        compare(json, false);
    }

    private static void compare(String json, boolean collectGarbage) {
        ModelConfig config = ModelConfigs.fromMap(Json.parseObject(json));
        Map<String, Tensor> plain = new LinkedHashMap<>(), checkpointed = new LinkedHashMap<>();
        double lossPlain = step(config, false, plain, collectGarbage, null), lossCheckpointed = step(config, true, checkpointed, collectGarbage, null);
        assertEquals(lossPlain, lossCheckpointed, 1e-7 * Math.abs(lossPlain), "loss");
        assertEquals(plain.keySet(), checkpointed.keySet());
        double worst = 0;
        for (String k : plain.keySet()) {
            double err = Tensors.relativeError(checkpointed.get(k), plain.get(k));
            worst = Math.max(worst, err);
            assertTrue(err <= 1e-6, k + ": gradient relative error " + err);
        }
        System.out.printf("activation checkpointing, %s: loss %.9g vs %.9g, worst gradient relative error %.3e%n",
                config.family(), lossCheckpointed, lossPlain, worst);
    }

    /**
     * One training loss and its gradients, from a fixed model, batch and noise; with {@code delivered}, a block
     * gradient sink records there the gradient each parameter has when the sink receives it (by name, once each).
     */
    private static double step(ModelConfig config, boolean checkpointing, Map<String, Tensor> grads, boolean collectGarbage,
                               Map<String, Tensor> delivered) {
        Backbone model = config.build(3);
        if (delivered != null) {
            Map<Long, String> names = new java.util.HashMap<>();
            for (var e : model.stateDict().entrySet()) names.put(e.getValue().unsafeGetTensorImpl().address(), e.getKey());
            model.setBlockGradientSink(ps -> {
                for (Tensor p : ps) {
                    String name = names.get(p.unsafeGetTensorImpl().address());
                    Tensor before = delivered.put(name, io.udit.engine.NativeScopes.escape(p.grad().clone())); // past the step's scope
                    assertTrue(before == null, name + " delivered twice");
                }
            });
        }
        // non-zero adaLN / output weights, so that every block's gradient is non-trivial
        try (org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {
            org.bytedeco.pytorch.Generator gen = torch.make_generator_cpu(5);
            for (Tensor p : model.trainableParameters()) p.add_(torch.randn(Tensors.shape(p), new GeneratorOptional(gen), p.options()).mul(new org.bytedeco.pytorch.Scalar(0.02)));
        }
        model.setForm(Form.TRAIN);
        model.setActivationCheckpointing(checkpointing);
        org.bytedeco.pytorch.Generator gen = torch.make_generator_cpu(11);
        long[] shape = {2, config.inChannels(), config.inputSize(), config.inputSize()};
        Tensor x = torch.randn(shape, new GeneratorOptional(gen), Tensors.options(torch.ScalarType.Float));
        Tensor noise = torch.randn(shape, new GeneratorOptional(gen), Tensors.options(torch.ScalarType.Float));
        Tensor t = Tensors.longs(17, 640), y = Tensors.longs(1, 4);
        double loss;
        try (PointerScope scope = new PointerScope()) {
            Tensor l = GaussianDiffusion.create("").trainingLosses(model::forward, x, t, y, noise).loss().mean();
            if (collectGarbage) collectGarbage();
            l.backward();
            loss = l.item_double();
        }
        for (var e : model.stateDict().entrySet()) {
            if (e.getValue().requires_grad()) grads.put(e.getKey(), e.getValue().grad().clone());
        }
        return loss;
    }

    /** Runs the collector until a fresh, unreferenced object is gone (so weakly reachable objects are gone too). */
    static void collectGarbage() {
        java.lang.ref.WeakReference<Object> probe = new java.lang.ref.WeakReference<>(new Object());
        for (int i = 0; i < 20 && probe.get() != null; i++) {
            System.gc();
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        for (int i = 0; i < 3; i++) System.gc();
    }
}
