package io.udit.model;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cosine attention's scaled L2 normalisation, g x / max(|x|, 1e-12) over the last axis: the fused form (weight norm's
 * kernel) against the plain arithmetic, values and both gradients, on strided views as the attention hands it; rows
 * whose norm is below the clamp take the plain arithmetic itself.
 */
class ScaledNormalizeTest {
    @BeforeAll
    static void init() {
        Engine.init();
    }

    private record Result(Tensor y, Tensor dx, Tensor dg) {}

    /** y = f(x narrowed out of a wider tensor, g expanded per row), loss sum(y * w); the gradients of x's base and g. */
    private static Result run(boolean fused, Tensor base, long width, Tensor g0, Tensor w, long[] rowsShape) {
        Tensor b = base.detach().clone().requires_grad_(true), g = g0.detach().clone().requires_grad_(true);
        Tensor x = b.narrow(-1, 0, width).view(rowsShape);
        Tensor y = fused ? ScaledNormalize.apply(x, g) : ScaledNormalize.plain(x, g);
        y.mul(w).sum().backward();
        return new Result(y.detach(), b.grad(), g.grad());
    }

    @Test
    void fusedFormHasThePlainValuesAndGradients() {
        Generator gen = torch.make_generator_cpu(3);
        // (batch, sub-grids, tokens, 2 x heads, head dim) out of a (batch, sub-grids, tokens, 3 x heads x head dim) qkv
        long[][] shapes = {{2, 4, 16, 4, 8}, {1, 4, 64, 6, 24}, {3, 1, 5, 2, 7}};
        for (long[] s : shapes) {
            long width = s[3] * s[4];
            Tensor base = torch.randn(new long[] {s[0], s[1], s[2], width * 3 / 2}, new GeneratorOptional(gen), Tensors.options(torch.ScalarType.Float));
            Tensor g = torch.rand(new long[] {s[3], 1}, new GeneratorOptional(gen), Tensors.options(torch.ScalarType.Float)).mul(new Scalar(20)).add(new Scalar(0.5));
            Tensor w = torch.randn(s, new GeneratorOptional(gen), Tensors.options(torch.ScalarType.Float));
            Result fused = run(true, base, width, g, w, s), plain = run(false, base, width, g, w, s);
            String what = java.util.Arrays.toString(s);
            assertArrayEquals(Tensors.shape(plain.y()), Tensors.shape(fused.y()), what);
            assertTrue(Tensors.relativeError(fused.y(), plain.y()) <= 1e-6, what + " values " + Tensors.relativeError(fused.y(), plain.y()));
            assertTrue(Tensors.relativeError(fused.dx(), plain.dx()) <= 1e-6, what + " dx " + Tensors.relativeError(fused.dx(), plain.dx()));
            assertTrue(Tensors.relativeError(fused.dg(), plain.dg()) <= 1e-6, what + " dg " + Tensors.relativeError(fused.dg(), plain.dg()));
            // and the plain arithmetic is F.normalize times g
            try (NoGradGuard ng = new NoGradGuard()) {
                Tensor x = base.narrow(-1, 0, width).view(s);
                Tensor reference = Ops.l2Normalize(x).mul(g);
                assertTrue(Tensors.relativeError(plain.y(), reference) <= 1e-6, what);
            }
        }
    }

    @Test
    void rowsBelowTheClampTakeThePlainArithmetic() {
        Generator gen = torch.make_generator_cpu(4);
        long[] s = {2, 4, 8, 4, 8};
        long width = s[3] * s[4];
        for (double tiny : new double[] {0.0, 1e-14}) {
            Tensor base = torch.randn(new long[] {s[0], s[1], s[2], width * 3 / 2}, new GeneratorOptional(gen), Tensors.options(torch.ScalarType.Float));
            try (NoGradGuard ng = new NoGradGuard()) {
                // one token's q and k rows: zero (a zero input with zero biases gives them) or below the 1e-12 clamp
                base.select(0, 1).select(0, 2).select(0, 3).narrow(-1, 0, width).fill_(new Scalar(tiny));
            }
            Tensor g = torch.rand(new long[] {s[3], 1}, new GeneratorOptional(gen), Tensors.options(torch.ScalarType.Float)).add(new Scalar(1));
            Tensor w = torch.randn(s, new GeneratorOptional(gen), Tensors.options(torch.ScalarType.Float));
            Result fused = run(true, base, width, g, w, s), plain = run(false, base, width, g, w, s);
            assertEquals(0.0, Tensors.maxAbsDiff(fused.y(), plain.y()), "values with a row at " + tiny);
            assertEquals(0.0, Tensors.maxAbsDiff(fused.dx(), plain.dx()), "dx with a row at " + tiny);
            assertEquals(0.0, Tensors.maxAbsDiff(fused.dg(), plain.dg()), "dg with a row at " + tiny);
            assertTrue(torch.isfinite(fused.dx()).all().item_bool() && torch.isfinite(fused.y()).all().item_bool(), "finite at " + tiny);
        }
    }
}
