package io.udit.model;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Layers.linear's oneDNN path (1x1 conv over channels-last rows) against torch.linear: values and gradients. */
class LinearFastPathTest {
    @BeforeAll
    static void init() {
        Engine.init();
    }

    @Test
    void matchesTorchLinearInValuesAndGradients() {
        Generator g = torch.make_generator_cpu(7);
        long[][] inputs = {{2, 40, 24}, {2, 4, 16, 24}, {64, 24}, {8, 24}, {1, 24}};
        for (long[] shape : inputs) {
            for (boolean withBias : new boolean[] {true, false}) {
                Tensor x = torch.randn(shape, new GeneratorOptional(g), Tensors.options(torch.ScalarType.Float));
                Tensor w = torch.randn(new long[] {36, 24}, new GeneratorOptional(g), Tensors.options(torch.ScalarType.Float));
                Tensor b = withBias ? torch.randn(new long[] {36}, new GeneratorOptional(g), Tensors.options(torch.ScalarType.Float)) : null;
                compare(x, w, b, shape.length + "-d " + java.util.Arrays.toString(shape) + (withBias ? " with bias" : " no bias"));
            }
        }
    }

    @Test
    void acceptsNonContiguousInputs() {
        Generator g = torch.make_generator_cpu(11);
        // (24, 50) transposed: rows are strided in memory
        Tensor x = torch.randn(new long[] {24, 50}, new GeneratorOptional(g), Tensors.options(torch.ScalarType.Float)).t();
        Tensor w = torch.randn(new long[] {20, 24}, new GeneratorOptional(g), Tensors.options(torch.ScalarType.Float));
        compare(x, w, torch.zeros(20), "transposed input");
        // a weight that is itself a transposed view (RepFeedForward's fold multiplies such products)
        Tensor wt = torch.randn(new long[] {24, 20}, new GeneratorOptional(g), Tensors.options(torch.ScalarType.Float)).t();
        compare(torch.randn(new long[] {48, 24}, new GeneratorOptional(g), Tensors.options(torch.ScalarType.Float)), wt, null, "transposed weight");
    }

    /** The weight-streamed path for a few rows (adaLN), called directly so that it runs whatever the thread count. */
    @Test
    void weightStreamedProductsMatchTorchLinear() {
        Generator g = torch.make_generator_cpu(13);
        long[][] inputs = {{1, 192}, {3, 192}, {8, 192}, {31, 192}, {2, 4, 192}, {192}};
        for (long[] shape : inputs) {
            for (boolean withBias : new boolean[] {true, false}) {
                Tensor x = torch.randn(shape, new GeneratorOptional(g), Tensors.options(torch.ScalarType.Float));
                Tensor w = torch.randn(new long[] {1152, 192}, new GeneratorOptional(g), Tensors.options(torch.ScalarType.Float));
                Tensor b = withBias ? torch.randn(new long[] {1152}, new GeneratorOptional(g), Tensors.options(torch.ScalarType.Float)) : null;
                compare(x, w, b, "streamed " + java.util.Arrays.toString(shape) + (withBias ? " with bias" : " no bias"), Mode.STREAMED);
            }
        }
        // a chunk of a wider tensor (strided rows) and a transposed weight
        Tensor wide = torch.randn(new long[] {8, 384}, new GeneratorOptional(g), Tensors.options(torch.ScalarType.Float));
        Tensor wt = torch.randn(new long[] {192, 1152}, new GeneratorOptional(g), Tensors.options(torch.ScalarType.Float)).t();
        compare(wide.narrow(1, 192, 192), wt, torch.zeros(1152), "streamed, strided rows and transposed weight", Mode.STREAMED);
        // adaLN's products at U-DiT-B's widths take this path whenever libtorch runs on more than one thread
        assertTrue(Layers.streamsWeight(8, 6L * 192 * 192) == (torch.get_num_threads() > 1));
        assertTrue(!Layers.streamsWeight(8, 6L * 32 * 32) && !Layers.streamsWeight(0, 1L << 20));
    }

    private enum Mode { PLAIN, LINEAR, STREAMED }

    private static void compare(Tensor x0, Tensor w0, Tensor b0, String what) {
        compare(x0, w0, b0, what, Mode.LINEAR);
    }

    private static void compare(Tensor x0, Tensor w0, Tensor b0, String what, Mode mode) {
        Tensor[] fast = run(x0, w0, b0, mode), plain = run(x0, w0, b0, Mode.PLAIN);
        assertArrayEquals(Tensors.shape(plain[0]), Tensors.shape(fast[0]), what + ": output shape");
        String[] names = {"output", "grad x", "grad w", "grad b"};
        for (int i = 0; i < fast.length; i++) {
            if (plain[i] == null) continue;
            double err = Tensors.relativeError(fast[i], plain[i]);
            assertTrue(err <= 1e-6, what + ": " + names[i] + " relative error " + err);
        }
    }

    /** Output and gradients of sum(y * r) for a fixed r. */
    private static Tensor[] run(Tensor x0, Tensor w0, Tensor b0, Mode mode) {
        Tensor x = x0.detach().requires_grad_(true), w = w0.detach().requires_grad_(true);
        Tensor b = b0 == null ? null : b0.detach().requires_grad_(true);
        Tensor y = switch (mode) {
            case LINEAR -> Layers.linear(x, w, b);
            case STREAMED -> Layers.weightStreamed(x, w, b, x.numel() / w.size(1));
            case PLAIN -> torch.linear(x, w, b == null ? new TensorOptional() : new TensorOptional(b));
        };
        Tensor r = torch.linspace(new org.bytedeco.pytorch.Scalar(-1.0), new org.bytedeco.pytorch.Scalar(1.0), y.numel()).reshape(Tensors.shape(y));
        y.mul(r).sum().backward();
        return new Tensor[] {y.detach(), x.grad(), w.grad(), b == null ? null : b.grad()};
    }
}
