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

    private static void compare(Tensor x0, Tensor w0, Tensor b0, String what) {
        Tensor[] fast = run(x0, w0, b0, true), plain = run(x0, w0, b0, false);
        assertArrayEquals(Tensors.shape(plain[0]), Tensors.shape(fast[0]), what + ": output shape");
        String[] names = {"output", "grad x", "grad w", "grad b"};
        for (int i = 0; i < fast.length; i++) {
            if (plain[i] == null) continue;
            double err = Tensors.relativeError(fast[i], plain[i]);
            assertTrue(err <= 1e-6, what + ": " + names[i] + " relative error " + err);
        }
    }

    /** Output and gradients of sum(y * r) for a fixed r. */
    private static Tensor[] run(Tensor x0, Tensor w0, Tensor b0, boolean fast) {
        Tensor x = x0.detach().requires_grad_(true), w = w0.detach().requires_grad_(true);
        Tensor b = b0 == null ? null : b0.detach().requires_grad_(true);
        Tensor y = fast ? Layers.linear(x, w, b)
                : torch.linear(x, w, b == null ? new TensorOptional() : new TensorOptional(b));
        Tensor r = torch.linspace(new org.bytedeco.pytorch.Scalar(-1.0), new org.bytedeco.pytorch.Scalar(1.0), y.numel()).reshape(Tensors.shape(y));
        y.mul(r).sum().backward();
        return new Tensor[] {y.detach(), x.grad(), w.grad(), b == null ? null : b.grad()};
    }
}
