package io.udit.model;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Ops.split / unbind (one-pass backward) give the same values and gradients as narrow / select views, bit for bit. */
class OpsSplitGradientTest {
    @BeforeAll
    static void init() {
        Engine.init();
    }

    @Test
    void chunkSplitAndUnbindMatchNarrowAndSelect() {
        long[] shape = {3, 4, 5, 12};
        check(shape, x -> Ops.split(x, 2, -1), x -> new Tensor[] {x.narrow(-1, 0, 6), x.narrow(-1, 6, 6)});
        check(shape, x -> Ops.split(x, new long[] {8, 4}, -1), x -> new Tensor[] {x.narrow(-1, 0, 8), x.narrow(-1, 8, 4)});
        check(shape, x -> Ops.unbind(x, 0), x -> new Tensor[] {x.select(0, 0), x.select(0, 1), x.select(0, 2)});
    }

    private static void check(long[] shape, Function<Tensor, Tensor[]> fast, Function<Tensor, Tensor[]> views) {
        Generator g = torch.make_generator_cpu(1);
        Tensor x0 = torch.randn(shape, new GeneratorOptional(g), Tensors.options(torch.ScalarType.Float));
        Tensor[] a = run(x0, fast, g), b = run(x0, views, torch.make_generator_cpu(1));
        for (int i = 0; i < a.length; i++) assertEquals(0.0, Tensors.maxAbsDiff(a[i], b[i]), "tensor " + i);
    }

    /** The parts and the gradient of sum_i (part_i * r_i) * (i + 1) for fixed r_i. */
    private static Tensor[] run(Tensor x0, Function<Tensor, Tensor[]> parts, Generator g) {
        Tensor x = x0.detach().requires_grad_(true);
        Tensor[] p = parts.apply(x);
        Tensor loss = null;
        Tensor[] out = new Tensor[p.length + 1];
        for (int i = 0; i < p.length; i++) {
            Tensor r = torch.linspace(new org.bytedeco.pytorch.Scalar(-1.0), new org.bytedeco.pytorch.Scalar(i + 1.0), p[i].numel()).reshape(Tensors.shape(p[i]));
            Tensor term = p[i].mul(r).sum();
            loss = loss == null ? term : loss.add(term);
            out[i] = p[i].detach().clone();
        }
        loss.backward();
        out[p.length] = x.grad().clone();
        return out;
    }
}
