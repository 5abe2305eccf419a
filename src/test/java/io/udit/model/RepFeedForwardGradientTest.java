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

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rep FFN's training fast path (folded where the fold saves work, 1x1 pairs in a row elsewhere) against the
 * reference's separate branches: output, input gradient and every parameter gradient.
 */
class RepFeedForwardGradientTest {
    static final int WIDTH = 16, HIDDEN = 32;

    @BeforeAll
    static void init() {
        Engine.init();
    }

    @Test
    void foldedPathMatchesTheBranches() {
        assertTrue(RepFeedForward.foldSavesWork(2 * 8 * 8, WIDTH, HIDDEN));
        compare(new long[] {2, WIDTH, 8, 8});
    }

    @Test
    void unfoldedProjectionPathMatchesTheBranches() {
        assertTrue(!RepFeedForward.foldSavesWork(4 * 4, WIDTH, HIDDEN));
        compare(new long[] {1, WIDTH, 4, 4});
    }

    private static void compare(long[] shape) {
        Generator g = torch.make_generator_cpu(3);
        RepFeedForward ffn = new RepFeedForward(WIDTH, HIDDEN);
        try (NoGradGuard guard = new NoGradGuard()) {
            for (Tensor p : params(ffn)) p.copy_(torch.randn(Tensors.shape(p), new GeneratorOptional(g), p.options()).mul(new Scalar(0.3)));
        }
        Tensor x0 = torch.randn(shape, new GeneratorOptional(g), Tensors.options(torch.ScalarType.Float)).contiguous(torch.MemoryFormat.ChannelsLast);
        List<Tensor> fast = run(ffn, x0, RepFeedForward.TrainPath.FOLDED_IN_GRAPH);
        List<Tensor> reference = run(ffn, x0, RepFeedForward.TrainPath.BRANCHES);
        assertEquals(reference.size(), fast.size());
        for (int i = 0; i < fast.size(); i++) {
            double err = Tensors.relativeError(fast.get(i), reference.get(i));
            assertTrue(err <= 1e-5, (i == 0 ? "output" : i == 1 ? "input gradient" : "parameter gradient " + (i - 2)) + ": relative error " + err);
        }
    }

    private static List<Tensor> params(RepFeedForward f) {
        List<Tensor> out = new ArrayList<>();
        for (Layers.Conv2d c : new Layers.Conv2d[] {f.in0, f.in1, f.dw5, f.dw3, f.dw1, f.out0, f.out1}) {
            out.add(c.weight);
            out.add(c.bias);
        }
        return out;
    }

    /** Output, input gradient and parameter gradients of sum(y * r) for a fixed r. */
    private static List<Tensor> run(RepFeedForward ffn, Tensor x0, RepFeedForward.TrainPath path) {
        ffn.setTrainPath(path);
        for (Tensor p : params(ffn)) {
            p.requires_grad_(true);
            if (p.grad().defined()) p.mutable_grad().reset();
        }
        Tensor x = x0.detach().requires_grad_(true);
        Tensor y = ffn.forward(x);
        Tensor r = torch.linspace(new Scalar(-1.0), new Scalar(1.0), y.numel()).reshape(Tensors.shape(y));
        y.mul(r).sum().backward();
        List<Tensor> out = new ArrayList<>(List.of(y.detach(), x.grad().clone()));
        for (Tensor p : params(ffn)) out.add(p.grad().clone());
        return out;
    }
}
