package io.udit.model;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * What activation checkpointing keeps of an attention gives what libtorch's attention gives: the kept output is
 * SDPA's output, and the backward run from it (flash kernel backward from the kept output and log-sum-exp) gives
 * SDPA's own gradients, bit for bit.
 */
class AttentionMemoTest {
    @BeforeAll
    static void init() {
        Engine.init();
    }

    private static Tensor leaf(long seed, long... shape) {
        return torch.randn(shape, new GeneratorOptional(torch.make_generator_cpu(seed)), Tensors.options(torch.ScalarType.Float))
                .requires_grad_(true);
    }

    @Test
    void theKeptAttentionGivesLibtorchsOutputAndGradients() {
        for (double scale : new double[] {1.0, 0.125}) {
            long[] shape = {3, 2, 37, 16}; // a token count that no block size divides
            Tensor q = leaf(1, shape), k = leaf(2, shape), v = leaf(3, shape), w = leaf(4, shape).detach();
            Tensor plain = AttentionMemo.sdpa(q, k, v, scale);
            plain.mul(w).sum().backward();

            AttentionMemo memo = new AttentionMemo();
            Tensor recorded;
            try (NoGradGuard g = new NoGradGuard()) {
                recorded = memo.recording(() -> AttentionMemo.sdpa(q.detach(), k.detach(), v.detach(), scale));
            }
            assertEquals(0.0, Tensors.maxAbsDiff(recorded, plain), "forward, scale " + scale);
            Tensor q2 = q.detach().clone().requires_grad_(true), k2 = k.detach().clone().requires_grad_(true),
                    v2 = v.detach().clone().requires_grad_(true);
            // the recomputed graph: q, k, v from ops on the leaves, as in a block
            Tensor replayed = memo.replaying(() -> AttentionMemo.sdpa(q2.mul(new Scalar(1.0)), k2.add(new Scalar(0.0)), v2.mul(new Scalar(1.0)), scale));
            replayed.mul(w).sum().backward();
            memo.release();
            assertEquals(0.0, Tensors.maxAbsDiff(replayed, plain), "replayed output, scale " + scale);
            assertEquals(0.0, Tensors.maxAbsDiff(q2.grad(), q.grad()), "dL/dq, scale " + scale);
            assertEquals(0.0, Tensors.maxAbsDiff(k2.grad(), k.grad()), "dL/dk, scale " + scale);
            assertEquals(0.0, Tensors.maxAbsDiff(v2.grad(), v.grad()), "dL/dv, scale " + scale);
        }
    }

    @Test
    void aRecomputationThatRunsOtherAttentionsIsRefused() {
        Tensor q = leaf(1, 1, 2, 8, 4);
        AttentionMemo memo = new AttentionMemo();
        try (NoGradGuard g = new NoGradGuard()) {
            memo.recording(() -> AttentionMemo.sdpa(q.detach(), q.detach(), q.detach(), 1.0));
        }
        assertThrows(IllegalStateException.class, () -> memo.replaying(() -> q.mul(new Scalar(2.0))));
        memo.release();
    }
}
