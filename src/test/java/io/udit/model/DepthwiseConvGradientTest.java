package io.udit.model;

import io.udit.engine.Engine;
import io.udit.engine.NativeScopes;
import io.udit.engine.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DepthwiseConv against libtorch's own convolution: output, input gradient, kernel and bias gradients, for leaf
 * kernels and for kernels computed from other parameters (the FFN's fold), in both memory layouts; and the lifetime
 * of its gradient hooks (a garbage collection before the backward, graphs dropped without one).
 */
class DepthwiseConvGradientTest {
    @BeforeAll
    static void init() {
        Engine.init();
    }

    private static Tensor randn(Generator g, long... shape) {
        return torch.randn(shape, new GeneratorOptional(g), Tensors.options(torch.ScalarType.Float));
    }

    @Test
    void kernelBiasAndInputGradientsEqualLibtorchs() {
        Generator g = torch.make_generator_cpu(3);
        // {2, 3, 7, 1500, 2}: wide rows, so strips of one row, each shorter than the padding around it. From
        // {2, 256, 16, 16, 2} on, sample by sample: a whole map; strips of 16 rows (64 = 4 x 16) with copies at the
        // top and bottom; 25 + 15 rows (40), a copy at each edge.
        long[][] cases = {{2, 6, 8, 8, 2}, {3, 16, 5, 7, 1}, {1, 4, 4, 4, 3}, {2, 32, 16, 16, 2}, {4, 8, 1, 1, 2}, {2, 3, 7, 1500, 2},
                {2, 256, 16, 16, 2}, {2, 64, 64, 64, 2}, {3, 128, 40, 40, 1}};
        boolean[] paths = new boolean[2];
        for (long[] c : cases) {
            paths[DepthwiseConv.runsPerSample(c[1], c[2]) ? 1 : 0] = true;
            for (boolean channelsLast : new boolean[] {true, false}) {
                for (boolean bias : new boolean[] {true, false}) {
                    Tensor x = randn(g, c[0], c[1], c[2], c[3]);
                    if (channelsLast) x = x.contiguous(torch.MemoryFormat.ChannelsLast);
                    long k = 2 * c[4] + 1;
                    Tensor w = randn(g, c[1], 1, k, k), b = bias ? randn(g, c[1]) : null, r = randn(g, c[0], c[1], c[2], c[3]);
                    compare(x, w, b, r, c[4], java.util.Arrays.toString(c) + (channelsLast ? " channels-last" : " NCHW") + (bias ? " bias" : ""));
                }
            }
        }
        assertTrue(paths[0] && paths[1], "the cases must run both the batched and the per-sample kernel gradient");
    }

    @Test
    void largeBatchesAreSplitIntoChunksWithTheSameGradients() {
        Generator g = torch.make_generator_cpu(4);
        // small maps (the batched kernel gradient): 4 Ki elements per sample, so chunks of 512 samples: 512 + 88 and 512 + 512 + 176
        long[][] cases = {{600, 16, 16, 16}, {1200, 4, 32, 32}};
        for (long[] c : cases) {
            assertTrue(c[1] * c[2] * c[3] * c[0] > DepthwiseConv.CHUNK_ELEMENTS, "the case must need several chunks");
            assertTrue(!DepthwiseConv.runsPerSample(c[1], c[2]), "the case must take the batched path");
            Tensor x = randn(g, c).contiguous(torch.MemoryFormat.ChannelsLast);
            compare(x, randn(g, c[1], 1, 5, 5), randn(g, c[1]), randn(g, c), 2, java.util.Arrays.toString(c));
        }
    }

    /** Output and gradients of sum(conv(x, w, b) * r): through Ops.conv2d (fast) or torch.conv2d (plain). */
    private static Tensor[] run(Tensor x0, Tensor w0, Tensor b0, Tensor r, long pad, boolean fast, boolean collectGarbage) {
        Tensor x = x0.detach().requires_grad_(true), w = w0.detach().requires_grad_(true);
        Tensor b = b0 == null ? null : b0.detach().requires_grad_(true);
        Tensor y;
        try (PointerScope scope = new PointerScope()) {
            // the forward in a scope of its own that closes before the backward, as a model's blocks run
            Tensor out = fast ? NativeScopes.scoped(() -> Ops.conv2d(x, w, b, pad, x.size(1)))
                    : torch.conv2d(x, w, b == null ? new TensorOptional() : new TensorOptional(b), new long[] {1, 1}, new long[] {pad, pad}, new long[] {1, 1}, x.size(1));
            if (collectGarbage) ActivationCheckpointingTest.collectGarbage();
            out.mul(r).sum().backward();
            y = NativeScopes.escape(out.detach().clone());
        }
        return new Tensor[] {y, x.grad(), w.grad(), b == null ? null : b.grad()};
    }

    /**
     * The fast and the plain fp32 results, each judged against float64: the fast one agrees with libtorch's to 1e-6
     * relative, or is at most 2e-6 or twice libtorch's distance from the exact values (long fp32 sums differ by more
     * than 1e-6 between any two summation orders; a wrong strip or chunk would be off by far more).
     */
    private static void compare(Tensor x, Tensor w, Tensor b, Tensor r, long pad, String what) {
        Tensor[] fast = run(x, w, b, r, pad, true, false), plain = run(x, w, b, r, pad, false, false);
        Tensor[] exact = run(toDouble(x), toDouble(w), b == null ? null : toDouble(b), toDouble(r), pad, false, false);
        String[] names = {"output", "grad x", "grad w", "grad b"};
        for (int i = 0; i < fast.length; i++) {
            if (plain[i] == null) continue;
            double diff = Tensors.relativeError(fast[i], plain[i]);
            double errFast = Tensors.relativeError(toDouble(fast[i]), exact[i]), errPlain = Tensors.relativeError(toDouble(plain[i]), exact[i]);
            assertTrue(diff <= 1e-6 || errFast <= Math.max(2e-6, 2 * errPlain), what + ": " + names[i] + " relative difference " + diff
                    + ", relative error to float64 " + errFast + " (libtorch's fp32: " + errPlain + ")");
        }
    }

    private static Tensor toDouble(Tensor t) {
        return t.to(torch.ScalarType.Double);
    }

    @Test
    void aKernelComputedFromOtherParametersGetsItsGradientsThroughItsGraph() {
        Generator g = torch.make_generator_cpu(5);
        Tensor x0 = randn(g, 2, 12, 9, 9).contiguous(torch.MemoryFormat.ChannelsLast), r = randn(g, 2, 12, 9, 9);
        Tensor a0 = randn(g, 12, 1, 5, 5), c0 = randn(g, 12, 1, 3, 3), b0 = randn(g, 12);
        Tensor[][] results = new Tensor[2][];
        for (int fast = 0; fast < 2; fast++) {
            Tensor x = x0.detach().requires_grad_(true), a = a0.detach().requires_grad_(true), c = c0.detach().requires_grad_(true);
            Tensor b = b0.detach().requires_grad_(true);
            try (PointerScope scope = new PointerScope()) {
                // 5x5 + (3x3 padded by 1) + identity at the centre, as RepFeedForward folds its branches
                Tensor k = a.add(torch.constant_pad_nd(c.add(new Scalar(1.0)), new long[] {1, 1, 1, 1}, new Scalar(0.0)));
                Tensor y = fast == 1 ? Ops.conv2d(x, k, b, 2, 12)
                        : torch.conv2d(x, k, new TensorOptional(b), new long[] {1, 1}, new long[] {2, 2}, new long[] {1, 1}, 12);
                y.mul(r).sum().backward();
            }
            results[fast] = new Tensor[] {x.grad(), a.grad(), c.grad(), b.grad()};
        }
        String[] names = {"grad x", "grad 5x5", "grad 3x3", "grad bias"};
        for (int i = 0; i < names.length; i++) {
            double err = Tensors.relativeError(results[1][i], results[0][i]);
            assertTrue(err <= 1e-6, names[i] + " relative error " + err);
        }
    }

    @Test
    void aKernelThatFeedsTwoConvolutionsGetsBothGradients() {
        Generator g = torch.make_generator_cpu(6);
        Tensor x0 = randn(g, 2, 6, 7, 7), r = randn(g, 2, 6, 7, 7), a0 = randn(g, 6, 1, 3, 3), s0 = randn(g, 6, 1, 1, 1);
        Tensor[][] results = new Tensor[2][];
        for (int fast = 0; fast < 2; fast++) {
            Tensor x = x0.detach().requires_grad_(true), a = a0.detach().requires_grad_(true), s = s0.detach().requires_grad_(true);
            try (PointerScope scope = new PointerScope()) {
                Tensor k = a.mul(s); // its backward needs the saved a and s, once for each convolution
                Tensor y1 = fast == 1 ? Ops.conv2d(x, k, null, 1, 6) : torch.conv2d(x, k, new TensorOptional(), new long[] {1, 1}, new long[] {1, 1}, new long[] {1, 1}, 6);
                Tensor x2 = x.mul(new Scalar(0.5));
                Tensor y2 = fast == 1 ? Ops.conv2d(x2, k, null, 1, 6) : torch.conv2d(x2, k, new TensorOptional(), new long[] {1, 1}, new long[] {1, 1}, new long[] {1, 1}, 6);
                y1.add(y2).mul(r).sum().backward();
            }
            results[fast] = new Tensor[] {x.grad(), a.grad(), s.grad()};
        }
        for (int i = 0; i < 3; i++) assertTrue(Tensors.relativeError(results[1][i], results[0][i]) <= 1e-6, "gradient " + i);
    }

    @Test
    void aGarbageCollectionBeforeTheBackwardChangesNothing() {
        Generator g = torch.make_generator_cpu(9);
        Tensor x = randn(g, 2, 8, 6, 6).contiguous(torch.MemoryFormat.ChannelsLast), w = randn(g, 8, 1, 5, 5), b = randn(g, 8);
        Tensor r = randn(g, 2, 8, 6, 6);
        Tensor[] collected = run(x, w, b, r, 2, true, true), plain = run(x, w, b, r, 2, false, false);
        for (int i = 1; i < 4; i++) assertTrue(Tensors.relativeError(collected[i], plain[i]) <= 1e-6, "gradient " + i);
    }

    @Test
    void hooksAreLetGoOnceTheirGraphIsGone() {
        Generator g = torch.make_generator_cpu(13);
        Tensor x0 = randn(g, 2, 8, 6, 6), w0 = randn(g, 8, 1, 3, 3);
        int before = HookKeeper.size();
        for (int i = 0; i < 100; i++) {
            Tensor x = x0.detach().requires_grad_(true), w = w0.detach().requires_grad_(true);
            try (PointerScope scope = new PointerScope()) {
                Tensor y = Ops.conv2d(x, w, null, 1, 8);
                if (i % 2 == 0) y.sum().backward(); // every other graph is dropped without a backward
            }
        }
        assertEquals(before, HookKeeper.size(), "hooks kept after their graphs were freed");
        // without autograd the convolution is a plain one and registers nothing
        try (PointerScope scope = new PointerScope(); NoGradGuard off = new NoGradGuard()) {
            Ops.conv2d(x0.requires_grad_(false), w0.detach().requires_grad_(true), null, 1, 8);
            assertEquals(before, HookKeeper.size());
        }
    }

    @Test
    void aSecondBackwardOverTheSameGraphFailsLoudly() {
        Generator g = torch.make_generator_cpu(17);
        Tensor x = randn(g, 1, 4, 5, 5).requires_grad_(true), w = randn(g, 4, 1, 3, 3).requires_grad_(true);
        try (PointerScope scope = new PointerScope()) {
            Tensor loss = Ops.conv2d(x, w, null, 1, 4).sum();
            torch.backward(new TensorVector(loss), new TensorVector(), new BoolOptional(true), false, new TensorVector());
            RuntimeException e = assertThrows(RuntimeException.class, loss::backward);
            assertTrue(String.valueOf(e.getMessage()).contains("twice"), e.getMessage());
        }
    }
}
