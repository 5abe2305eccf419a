package io.udit.model;

import io.udit.engine.Engine;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Spec §6 figures, to the unit for parameters and to two decimals for GMACs. */
class ComplexityTest {
    @BeforeAll
    static void init() {
        Engine.init();
    }

    private static void check(String name, long trained, long folded, String gmacs) {
        Complexity c = Complexity.of(ModelConfigs.named(name));
        assertEquals(trained, c.paramsTrained(), name + " params as trained");
        assertEquals(folded, c.paramsFolded(), name + " params folded");
        assertEquals(gmacs, String.format("%.2f", c.gmacsFolded()), name + " GMACs");
    }

    @Test
    void publishedFigures() {
        check("U-DiT-S", 58_896_568, 52_045_240, "6.04");
        check("U-DiT-B", 231_251_304, 204_425_064, "22.22");
        check("U-DiT-L", 916_335_304, 810_188_488, "85.00");
        check("DiT-B/2", 130_512_416, 130_512_416, "23.02");
        check("DiT-XL/2", 675_129_632, 675_129_632, "118.66");
        // exact MAC totals from spec §6
        Complexity s = Complexity.of(ModelConfigs.named("U-DiT-S"));
        assertEquals(6_020_797_440L, s.macsFolded());
        assertEquals(22_741_760L, s.elementwise());
        assertEquals(6_043_539_200L, s.macsFolded() + s.elementwise());
        // training graph (FFN unfolded), spec §5b
        assertEquals("7.13", String.format("%.2f", s.gmacsTrain()));
        assertEquals("26.51", String.format("%.2f", Complexity.of(ModelConfigs.named("U-DiT-B")).gmacsTrain()));
        assertEquals("102.03", String.format("%.2f", Complexity.of(ModelConfigs.named("U-DiT-L")).gmacsTrain()));
    }

    @Test
    void analyticParameterCountsEqualTheBuiltModels() {
        UDiTConfig tiny = UDiTConfig.named(32, 2).toBuilder().inputSize(16).numClasses(10).depth(List.of(1, 1, 2, 1, 1)).build();
        List<ModelConfig> configs = List.of(
                ModelConfigs.named("U-DiT-S"),
                tiny,
                tiny.toBuilder().ffn(UDiTConfig.FfnType.BASIC).attention(UDiTConfig.AttentionType.PLAIN)
                        .position(UDiTConfig.PositionType.NONE).downsampler(0, false).downFactor(List.of(1, 1, 1, 1, 1)).build(),
                tiny.toBuilder().ffn(UDiTConfig.FfnType.DWCONV).attention(UDiTConfig.AttentionType.COSINE)
                        .position(UDiTConfig.PositionType.ROPE2D).downsampler(3, false).downFactor(List.of(2, 2, 2, 2, 2)).build(),
                tiny.withClassDropoutProb(0).withLearnSigma(false),
                ModelConfigs.named("DiT-S/8"),
                ModelConfigs.named("DiT-S/4").withNumClasses(10).withInputSize(16));
        for (ModelConfig c : configs) {
            Backbone m = c.build(0);
            assertEquals(m.parameterCount(), Complexity.of(c).paramsTrained(), c.toString());
        }
    }
}
