package io.udit.model;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The conv + GELU primitive against torch.conv2d then torch.gelu, and when it is used. */
class ConvGeluTest {
    @BeforeAll
    static void init() {
        Engine.init();
    }

    @Test
    void fusedPrimitiveEqualsConvolutionThenExactGelu() {
        Generator g = torch.make_generator_cpu(5);
        long[][] cases = {{2, 24, 9, 9, 40, 1, 0, 1}, {3, 16, 8, 8, 32, 1, 0, 1}, {2, 12, 7, 7, 12, 3, 1, 12}, {1, 8, 6, 6, 16, 5, 2, 1}};
        for (long[] c : cases) {
            long n = c[0], cin = c[1], h = c[2], wd = c[3], cout = c[4], k = c[5], pad = c[6], groups = c[7];
            for (boolean channelsLast : new boolean[] {true, false}) {
                for (boolean bias : new boolean[] {true, false}) {
                    Tensor x = torch.randn(new long[] {n, cin, h, wd}, new GeneratorOptional(g), Tensors.options(torch.ScalarType.Float)).mul(new org.bytedeco.pytorch.Scalar(2.0));
                    if (channelsLast) x = x.contiguous(torch.MemoryFormat.ChannelsLast);
                    Tensor w = torch.randn(new long[] {cout, cin / groups, k, k}, new GeneratorOptional(g), Tensors.options(torch.ScalarType.Float)).mul(new org.bytedeco.pytorch.Scalar(0.3));
                    Tensor b = bias ? torch.randn(new long[] {cout}, new GeneratorOptional(g), Tensors.options(torch.ScalarType.Float)) : null;
                    try (InferenceMode im = new InferenceMode()) {
                        Tensor fused = ConvGelu.fused(x, w, b, pad, groups), plain = ConvGelu.plain(x, w, b, pad, groups);
                        String what = java.util.Arrays.toString(c) + (channelsLast ? " channels-last" : " NCHW") + (bias ? " bias" : "");
                        assertArrayEquals(Tensors.shape(plain), Tensors.shape(fused), what);
                        double err = Tensors.relativeError(fused, plain);
                        assertTrue(err <= 1e-6, what + ": relative error " + err);
                    }
                }
            }
        }
    }

    @Test
    void fusesOnlyWithoutAutograd() {
        Tensor x = torch.randn(2, 8, 4, 4), w = torch.randn(16, 8, 1, 1);
        assertTrue(org.bytedeco.pytorch.GradMode.is_enabled());
        assertFalse(ConvGelu.fuses(x, w), "autograd on: plain ops, which have a backward");
        try (NoGradGuard ng = new NoGradGuard()) {
            assertTrue(ConvGelu.fuses(x, w));
            assertFalse(ConvGelu.fuses(x.to(torch.ScalarType.Double), w.to(torch.ScalarType.Double)));
        }
    }
}
