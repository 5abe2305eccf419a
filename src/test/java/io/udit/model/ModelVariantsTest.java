package io.udit.model;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.io.Npy;
import io.udit.io.TorchCheckpoint;
import io.udit.testing.Fixture;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Weights from torch.save files, the DiT cross-check, and every ablation variant in both forms. */
class ModelVariantsTest {
    @BeforeAll
    static void init() {
        Engine.init();
    }

    @Test
    void weightsFromTheTorchCheckpointGiveTheFixtureOutputs() throws Exception {
        Fixture fx = Fixture.tiny();
        UDiT m = (UDiT) ModelConfigs.fromMap(UDiTParityTest.tinyConfigMap()).build(0);
        m.loadStateDict(TorchCheckpoint.readStateDict(fx.checkpoint(), null));
        try (NoGradGuard g = new NoGradGuard()) {
            Tensor out = m.forward(fx.tensor("input/x"), fx.tensor("input/t"), fx.tensor("input/y"));
            assertTrue(Tensors.relativeError(out, fx.tensor("output/train")) <= 1e-5);
            m.setForm(Form.EVAL);
            out = m.forward(fx.tensor("input/x"), fx.tensor("input/t"), fx.tensor("input/y"));
            assertTrue(Tensors.relativeError(out, fx.tensor("output/eval")) <= 1e-5);
        }
    }

    @Test
    void pixelUnshuffleIsTheSameNetworkOnFoldedPixels() {
        Map<String, Object> map = new java.util.LinkedHashMap<>(Map.of("input_size", 16, "in_channels", 3, "hidden_size", 32,
                "num_heads", 2, "depth", List.of(1, 1, 1, 1, 1), "mlp_ratio", 2, "num_classes", 4, "attn_type", "v2",
                "posemb_type", "rope2d", "down_factor", 2));
        map.put("pixel_unshuffle", 2);
        UDiTConfig folded = (UDiTConfig) ModelConfigs.fromMap(map);
        assertEquals(2, folded.pixelUnshuffle());
        assertEquals(folded, ModelConfigs.fromMap(folded.toMap()), "pixel_unshuffle survives the config round trip");
        assertFalse(folded.toBuilder().pixelUnshuffle(1).build().toMap().containsKey("pixel_unshuffle"), "reference configs stay as they were");
        // the same weights as a plain U-DiT on 12 x 8 x 8 inputs (same seed, same parameter shapes, same keys)
        UDiTConfig grid = folded.toBuilder().pixelUnshuffle(1).inputSize(8).inChannels(12).build();
        UDiT a = new UDiT(folded, 3), b = new UDiT(grid, 3);
        assertEquals(b.stateDict().keySet(), a.stateDict().keySet());
        b.loadStateDict(a.stateDict());
        Tensor x = torch.randn(2, 3, 16, 16), t = Tensors.longs(new long[] {5, 700}, 2), y = Tensors.longs(new long[] {1, 3}, 2);
        // non-zero output layers, so the comparison sees the whole network
        try (NoGradGuard g = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : a.stateDict().entrySet()) {
                if (e.getKey().contains("adaLN") || e.getKey().startsWith("final_layer")) {
                    e.getValue().copy_(torch.randn(Tensors.shape(e.getValue())).mul(new Scalar(0.05)));
                }
            }
            b.loadStateDict(a.stateDict());
            Tensor out = a.forward(x, t, y);
            assertEquals(List.of(2L, 6L, 16L, 16L), List.of(out.size(0), out.size(1), out.size(2), out.size(3)));
            Tensor ref = torch.pixel_shuffle(b.forward(torch.pixel_unshuffle(x, 2), t, y), 2);
            assertTrue(Tensors.relativeError(out, ref) <= 1e-6, "error " + Tensors.relativeError(out, ref));
            assertTrue(out.abs().max().item_double() > 1e-3, "the output is not trivially zero");
        }
        assertEquals(Complexity.of(grid).gmacsFolded(), Complexity.of(folded).gmacsFolded(), 1e-12);
        assertTrue(Complexity.of(folded).gmacsFolded() < Complexity.of(folded.toBuilder().pixelUnshuffle(1).build()).gmacsFolded() / 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> folded.toBuilder().pixelUnshuffle(8).build());
        assertTrue(e.getMessage().contains("multiple of 4 x pixel_unshuffle"), e.getMessage());
    }

    @Test
    void ditMatchesAnIndependentTorchComputation() throws Exception {
        Path dir = Path.of("src/test/resources/dit-tiny");
        DiTConfig c = new DiTConfig(8, 2, 4, 64, 2, 4, 4.0, 0.1, 10, true);
        DiT m = new DiT(c, 0);
        Map<String, Tensor> sd = TorchCheckpoint.readStateDict(dir.resolve("dit_tiny.pt"), null);
        assertEquals(new java.util.TreeSet<>(sd.keySet()), new java.util.TreeSet<>(m.stateDict().keySet()));
        // our own sin-cos table must equal the reference's frozen pos_embed
        assertTrue(Tensors.maxAbsDiff(m.stateDict().get("pos_embed"), sd.get("pos_embed")) < 1e-6);
        m.loadStateDict(sd);
        Tensor expected = Npy.read(dir.resolve("out.npy"));
        try (NoGradGuard g = new NoGradGuard()) {
            for (Form form : Form.values()) {
                m.setForm(form);
                Tensor out = m.forward(Npy.read(dir.resolve("x.npy")), Npy.read(dir.resolve("t.npy")), Npy.read(dir.resolve("y.npy")));
                double err = Tensors.relativeError(out, expected);
                assertTrue(err <= 1e-5, form + ": relative error " + err);
            }
        }
    }

    /** The paper's component ladder, from DiT-UNet to the full U-DiT, all on a small model. */
    static List<UDiTConfig> ladder() {
        UDiTConfig base = UDiTConfig.named(32, 2).toBuilder().inputSize(16).numClasses(10).depth(List.of(1, 1, 1, 1, 1)).build();
        List<Integer> full = List.of(1, 1, 1, 1, 1), down = List.of(2, 2, 2, 2, 2);
        return List.of(
                base.toBuilder().ffn(UDiTConfig.FfnType.BASIC).attention(UDiTConfig.AttentionType.PLAIN)
                        .position(UDiTConfig.PositionType.NONE).downsampler(0, false).downFactor(full).build(),
                base.toBuilder().ffn(UDiTConfig.FfnType.BASIC).attention(UDiTConfig.AttentionType.PLAIN)
                        .position(UDiTConfig.PositionType.NONE).downsampler(0, false).downFactor(down).build(),
                base.toBuilder().ffn(UDiTConfig.FfnType.BASIC).attention(UDiTConfig.AttentionType.PLAIN)
                        .position(UDiTConfig.PositionType.NONE).downsampler(5, false).downFactor(down).build(),
                base.toBuilder().ffn(UDiTConfig.FfnType.BASIC).attention(UDiTConfig.AttentionType.PLAIN)
                        .position(UDiTConfig.PositionType.NONE).downsampler(5, true).downFactor(down).build(),
                base.toBuilder().ffn(UDiTConfig.FfnType.BASIC).attention(UDiTConfig.AttentionType.COSINE)
                        .position(UDiTConfig.PositionType.NONE).downsampler(5, true).downFactor(down).build(),
                base.toBuilder().ffn(UDiTConfig.FfnType.BASIC).attention(UDiTConfig.AttentionType.COSINE)
                        .position(UDiTConfig.PositionType.ROPE2D).downsampler(5, true).downFactor(down).build(),
                base.toBuilder().ffn(UDiTConfig.FfnType.DWCONV).attention(UDiTConfig.AttentionType.COSINE)
                        .position(UDiTConfig.PositionType.ROPE2D).downsampler(5, true).downFactor(down).build(),
                base.toBuilder().ffn(UDiTConfig.FfnType.REP).attention(UDiTConfig.AttentionType.COSINE)
                        .position(UDiTConfig.PositionType.ROPE2D).downsampler(3, true).downFactor(down).build());
    }

    @Test
    void everyLadderVariantRunsAndItsFastPathsMatchThePlainPath() {
        Tensor x = torch.randn(2, 4, 16, 16), t = Tensors.longs(3, 900), y = Tensors.longs(1, 10);
        for (UDiTConfig c : ladder()) {
            UDiT m = new UDiT(c, 1);
            randomize(m);
            try (NoGradGuard g = new NoGradGuard()) {
                m.setForm(Form.TRAIN);
                m.setAttentionKernel(AttentionKernel.MATH);
                Tensor plain = m.forward(x, t, y);
                assertEquals("[2, 8, 16, 16]", Tensors.shapeString(plain));
                m.setAttentionKernel(null);
                m.setForm(Form.EVAL);
                Tensor fast = m.forward(x, t, y);
                double err = Tensors.relativeError(fast, plain);
                assertTrue(err <= 1e-5, c + ": eval/fused vs train/math relative error " + err);
            }
            // the config round-trips through the reference's argument names
            assertEquals(c, ModelConfigs.fromMap(c.toMap()));
        }
    }

    @Test
    void trainFormHasGradientsForEveryParameter() {
        UDiT m = new UDiT(ladder().get(7), 2);
        randomize(m);
        m.setForm(Form.TRAIN);
        Tensor out = m.forward(torch.randn(2, 4, 16, 16), Tensors.longs(3, 900), Tensors.longs(1, 10));
        out.pow(new Scalar(2)).mean().backward();
        for (var e : m.stateDict().entrySet()) {
            Tensor grad = e.getValue().grad();
            assertTrue(grad.defined(), "no gradient for " + e.getKey());
            assertFalse(grad.abs().sum().item_double() == 0.0 && !e.getKey().startsWith("y_embedder"), "zero gradient for " + e.getKey());
        }
    }

    @Test
    void invalidConfigsAreRefusedWithTheReason() {
        UDiTConfig s = UDiTConfig.named(96, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.withInputSize(30));
        assertTrue(e.getMessage().contains("input_size"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> s.toBuilder().hidden(96, 5).build());
        assertTrue(e.getMessage().contains("num_heads"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelConfigs.fromMap(Map.of("model", "U-DiT-S", "downsampler", "avgpool")));
        assertTrue(e.getMessage().contains("downsampler"), e.getMessage());
    }

    /** Zero-initialised layers would hide bugs: give every parameter random values. */
    static void randomize(Backbone m) {
        try (NoGradGuard g = new NoGradGuard()) {
            var gen = torch.make_generator_cpu(7);
            for (var e : m.stateDict().entrySet()) {
                if (e.getKey().equals("pos_embed")) continue;
                e.getValue().normal_(0.0, 0.05, new org.bytedeco.pytorch.GeneratorOptional(gen));
            }
        }
        m.setForm(m.form());
    }
}
