package io.udit.train;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * FusedAdamW against Adam written out by hand and against torch::optim::AdamW (the plain arithmetic it replaces):
 * same updates, and optimizer states that load across the two.
 */
class FusedAdamWTest {
    static final double LR = 0.01, B1 = 0.8, B2 = 0.95, WD = 0.1;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void init() {
        Engine.init();
    }

    @Test
    void matchesAdamWrittenOutByHand() {
        Tensor w = torch.zeros(1);
        w.set_requires_grad(true);
        FusedAdamW opt = new FusedAdamW(List.of(w), LR, B1, B2, WD);
        double x = 0, m = 0, v = 0, eps = 1e-8;
        for (int step = 1; step <= 5; step++) {
            opt.zeroGrad();
            w.sub(new Scalar(3.0)).pow(new Scalar(2)).sum().backward(); // gradient 2 (w - 3)
            opt.step();
            double g = 2 * (x - 3);
            x -= LR * WD * x; // decoupled weight decay
            m = B1 * m + (1 - B1) * g;
            v = B2 * v + (1 - B2) * g * g;
            double mh = m / (1 - Math.pow(B1, step)), vh = v / (1 - Math.pow(B2, step));
            x -= LR * mh / (Math.sqrt(vh) + eps);
            assertEquals(x, w.item_double(), 1e-6, "step " + step);
        }
    }

    /** Parameters of several shapes and layouts; the third gets no gradient on odd steps. */
    static List<Tensor> params() {
        torch.manual_seed(7);
        List<Tensor> ps = new ArrayList<>();
        ps.add(torch.randn(12, 5));
        ps.add(torch.randn(6, 4, 3, 3).contiguous(torch.MemoryFormat.ChannelsLast)); // a channels-last conv weight
        ps.add(torch.randn(7));
        ps.add(torch.randn(3, 2, 5).transpose(0, 2)); // dense but not contiguous
        for (Tensor p : ps) p.set_requires_grad(true);
        return ps;
    }

    /** A loss whose gradient changes with the weights, and a layout of its own for the transposed parameter. */
    static void backward(List<Tensor> ps, int step) {
        Tensor loss = null;
        for (int i = 0; i < ps.size(); i++) {
            if (i == 2 && step % 2 == 1) continue;
            Tensor p = ps.get(i);
            Tensor term = p.mul(p).mul(p).sum().add(p.sin().sum().mul(new Scalar(step + 1.0)));
            loss = loss == null ? term : loss.add(term);
        }
        loss.backward();
    }

    static AdamW libtorch(List<Tensor> ps) {
        AdamWOptions o = new AdamWOptions(LR);
        o.weight_decay().put(WD);
        // betas() is a std::tuple seen as two doubles, stored in reverse order by libstdc++: find the layout
        int beta1Index = new AdamWOptions().betas().get(0) == 0.9 ? 0 : 1;
        o.betas().put(beta1Index, B1).put(1 - beta1Index, B2);
        return new AdamW(new TensorVector(ps.toArray(new Tensor[0])), o);
    }

    /** One update by each optimizer of its own parameters, with the same loss. */
    static void step(AdamW plain, List<Tensor> a, FusedAdamW fused, List<Tensor> b, int step) {
        plain.zero_grad();
        backward(a, step);
        plain.step();
        fused.zeroGrad();
        backward(b, step);
        fused.step();
    }

    /** An optimizer's state written to a file by {@code save} and read back as an archive. */
    static InputArchive throughFile(java.util.function.Consumer<OutputArchive> save, String name) {
        OutputArchive out = new OutputArchive();
        save.accept(out);
        out.save_to(tmp.resolve(name).toString());
        InputArchive in = new InputArchive();
        in.load_from(tmp.resolve(name).toString());
        return in;
    }

    static double maxRel(List<Tensor> a, List<Tensor> b) {
        double worst = 0;
        for (int i = 0; i < a.size(); i++) {
            worst = Math.max(worst, Tensors.maxAbsDiff(a.get(i), b.get(i)) / Math.max(1e-12, a.get(i).abs().max().item_double()));
        }
        return worst;
    }

    @Test
    void updatesAsTorchOptimAdamWDoes() {
        List<Tensor> a = params(), b = params();
        AdamW plain = libtorch(a);
        FusedAdamW fused = new FusedAdamW(b, LR, B1, B2, WD);
        for (int step = 0; step < 20; step++) step(plain, a, fused, b, step);
        double rel = maxRel(a, b);
        System.out.printf("fused vs torch::optim::AdamW after 20 steps: max relative difference %.3e%n", rel);
        assertTrue(rel < 1e-6, "relative difference " + rel);
        assertTrue(b.get(1).is_contiguous(torch.MemoryFormat.ChannelsLast), "the update kept the parameter's layout");
    }

    /**
     * Updating some parameters early (as a checkpointed backward does block by block, through other wrappers of the
     * same tensors) and the rest with step() gives exactly the updates of one step() over all, the third parameter's
     * missing gradients and step counts included; the early ones lose their gradients, and a tensor the optimizer
     * does not hold is refused.
     */
    @Test
    void anEarlyUpdateOfSomeParametersIsTheSameUpdate() {
        List<Tensor> a = params(), b = params();
        FusedAdamW whole = new FusedAdamW(a, LR, B1, B2, WD), split = new FusedAdamW(b, LR, B1, B2, WD);
        for (int step = 0; step < 6; step++) {
            whole.zeroGrad();
            backward(a, step);
            whole.step();
            split.zeroGrad();
            backward(b, step);
            // new wrappers of the same tensors, one of them twice: still one update each
            Tensor g0 = new Tensor(b.get(0).grad()); // this test's own reference to the gradient
            split.stepAndDropGradients(List.of(new Tensor(b.get(2)), new Tensor(b.get(0)), b.get(0)));
            assertTrue(!b.get(0).grad().defined() && !b.get(2).grad().defined(), "early gradients dropped");
            assertEquals(1, g0.use_count(), "the dropped gradient is held by nothing but this test (its memory is free)");
            assertTrue(b.get(1).grad().defined(), "the others keep theirs");
            split.step();
            for (int i = 0; i < a.size(); i++) {
                assertEquals(0.0, Tensors.maxAbsDiff(a.get(i), b.get(i)), "parameter " + i + " after step " + step);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> split.stepAndDropGradients(List.of(b.get(0).detach())));
    }

    /**
     * BlockwiseAdamW: blocks applied as they arrive and the rest at the end give the whole step's update and the
     * whole gradient norm; once a block's gradient is not finite, neither it nor any later block is applied.
     */
    @Test
    void blockwiseUpdatesMatchTheWholeStepAndStopAtANonFiniteBlock() {
        List<Tensor> a = params(), b = params();
        FusedAdamW whole = new FusedAdamW(a, LR, B1, B2, WD);
        BlockwiseAdamW blockwise = new BlockwiseAdamW(new FusedAdamW(b, LR, B1, B2, WD));
        TensorVector all = new TensorVector(b.toArray(new Tensor[0]));
        for (int step = 0; step < 4; step++) {
            whole.zeroGrad();
            backward(a, step);
            double norm = torch.clip_grad_norm_(new TensorVector(a.toArray(new Tensor[0])), 1e20);
            whole.step();
            for (Tensor p : b) p.mutable_grad().reset();
            blockwise.begin();
            backward(b, step);
            blockwise.accept(List.of(b.get(1)));
            blockwise.accept(List.of(b.get(3), b.get(2)));
            assertTrue(blockwise.finite());
            assertEquals(norm, blockwise.gradientNorm(all), 1e-6 * norm, "gradient norm, step " + step);
            blockwise.finish();
            for (int i = 0; i < a.size(); i++) assertEquals(0.0, Tensors.maxAbsDiff(a.get(i), b.get(i)), "parameter " + i);
        }
        List<Tensor> before = new ArrayList<>();
        for (Tensor p : b) before.add(p.detach().clone());
        for (Tensor p : b) p.mutable_grad().reset();
        blockwise.begin();
        backward(b, 0);
        b.get(0).grad().select(0, 3).select(0, 2).fill_(new Scalar(Double.NaN));
        blockwise.accept(List.of(b.get(0)));
        blockwise.accept(List.of(b.get(3)));
        assertTrue(!blockwise.finite() && Double.isNaN(blockwise.gradientNorm(all)), "the non-finite block is reported");
        for (int i = 0; i < b.size(); i++) assertEquals(0.0, Tensors.maxAbsDiff(before.get(i), b.get(i)), "parameter " + i + " changed");
    }

    @Test
    void aGradientInTheParametersMemoryOrderIsUsedAsItIs() {
        // a 1x1 conv weight and its channels-last gradient: other strides, on size-1 axes only, so the same order
        Tensor w = torch.randn(5, 3, 1, 1);
        Tensor g = torch.randn(5, 3).as_strided(new long[] {5, 3, 1, 1}, new long[] {3, 1, 3, 3});
        assertTrue(!java.util.Arrays.equals(w.strides().vec().get(), g.strides().vec().get()), "the strides differ");
        assertEquals(g.data_ptr().address(), FusedAdamW.sameLayout(g, w).data_ptr().address(), "no copy");
        // a 3x3 conv weight with a channels-last gradient: another order, so a copy in the parameter's layout
        Tensor w3 = torch.randn(6, 4, 3, 3);
        Tensor g3 = torch.randn(6, 4, 3, 3).contiguous(torch.MemoryFormat.ChannelsLast);
        Tensor copy = FusedAdamW.sameLayout(g3, w3);
        assertTrue(copy.data_ptr().address() != g3.data_ptr().address() && copy.is_contiguous(), "a contiguous copy");
        assertEquals(0.0, Tensors.maxAbsDiff(copy, g3), "the same values");
    }

    @Test
    void statesLoadAcrossTheTwoOptimizers() throws Exception {
        // train 5 steps with each, swap states through archives, continue 5 steps: the same as not swapping
        List<Tensor> a = params(), b = params(), c = params(), d = params();
        AdamW plainA = libtorch(a);
        FusedAdamW fusedB = new FusedAdamW(b, LR, B1, B2, WD);
        for (int step = 0; step < 5; step++) step(plainA, a, fusedB, b, step);
        for (int i = 0; i < a.size(); i++) {
            try (var g = new org.bytedeco.pytorch.NoGradGuard()) {
                c.get(i).copy_(a.get(i));
                d.get(i).copy_(b.get(i));
            }
        }
        FusedAdamW fusedC = new FusedAdamW(c, LR, B1, B2, WD); // continues plainA's run from its archive
        fusedC.load(throughFile(plainA::save, "plain.pt"));
        AdamW plainD = libtorch(d); // continues fusedB's run from its archive
        plainD.load(throughFile(fusedB::save, "fused.pt"));
        for (int step = 5; step < 10; step++) {
            step(plainA, a, fusedC, c, step);
            step(plainD, d, fusedB, b, step);
        }
        assertTrue(maxRel(a, c) < 1e-6, "libtorch state into FusedAdamW: " + maxRel(a, c));
        assertTrue(maxRel(b, d) < 1e-6, "FusedAdamW state into libtorch: " + maxRel(b, d));
        // and the restored state matters: a fresh optimizer from step 5 ends elsewhere
        List<Tensor> e = params();
        FusedAdamW fresh = new FusedAdamW(e, LR, B1, B2, WD);
        for (int step = 0; step < 10; step++) {
            if (step == 5) fresh = new FusedAdamW(e, LR, B1, B2, WD);
            fresh.zeroGrad();
            backward(e, step);
            fresh.step();
        }
        assertTrue(maxRel(a, e) > 1e-4, "a fresh optimizer state gives the same result: the comparison would be vacuous");
    }

    @Test
    void theMomentsExistFromTheStartAndAStateLoadsIntoTheirMemory() {
        List<Tensor> ps = params();
        FusedAdamW opt = new FusedAdamW(ps, LR, B1, B2, WD);
        long[] addresses = new long[ps.size()];
        for (int i = 0; i < ps.size(); i++) {
            Tensor m = opt.firstMoment(i);
            assertTrue(m != null && m.defined() && m.abs().max().item_double() == 0, "moment " + i + " allocated, zero");
            addresses[i] = m.data_ptr().address();
        }
        // before any update nothing is written for a parameter, as torch::optim::AdamW writes nothing
        InputArchive empty = throughFile(opt::save, "empty.pt"), state = new InputArchive();
        empty.read("state", state);
        for (int i = 0; i < ps.size(); i++) assertTrue(!state.try_read(Integer.toString(i), new InputArchive()), "state " + i);

        // a state from another run lands in the same memory, and parameters without one start afresh
        List<Tensor> qs = params();
        FusedAdamW other = new FusedAdamW(qs, LR, B1, B2, WD);
        backward(qs, 1); // parameter 2 gets no gradient on odd steps
        other.step();
        backward(ps, 0);
        opt.step(); // opt's parameter 2 now has a state of its own, which the load must clear
        opt.load(throughFile(other::save, "other.pt"));
        for (int i = 0; i < ps.size(); i++) {
            assertEquals(addresses[i], opt.firstMoment(i).data_ptr().address(), "moment " + i + " reused");
            assertEquals(0.0, Tensors.maxAbsDiff(opt.firstMoment(i), other.firstMoment(i)), "moment " + i + " loaded");
        }
        assertEquals(0.0, opt.firstMoment(2).abs().max().item_double(), "no state for parameter 2: zero moments");
        InputArchive again = throughFile(opt::save, "again.pt"), st = new InputArchive();
        again.read("state", st);
        assertTrue(!st.try_read("2", new InputArchive()) && st.try_read("1", new InputArchive()), "step counts loaded too");

        // a state with a negative step count is refused, and the moments stay as they were
        Tensor before = opt.firstMoment(0).clone();
        try {
            java.lang.reflect.Field steps = FusedAdamW.class.getDeclaredField("steps");
            steps.setAccessible(true);
            ((long[]) steps.get(other))[3] = -1;
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
        other.firstMoment(0).add_(new Scalar(1.0));
        InputArchive negative = throughFile(other::save, "negative.pt");
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> opt.load(negative));
        assertTrue(refused.getMessage().contains("negative step"), refused.getMessage());
        assertEquals(0.0, Tensors.maxAbsDiff(opt.firstMoment(0), before), "a refused state changes nothing");
    }

    @Test
    void aStateOfOtherParametersIsRefused() {
        FusedAdamW small = new FusedAdamW(List.of(torch.randn(3).requires_grad_(true)), LR, B1, B2, WD);
        List<Tensor> ps = params();
        FusedAdamW big = new FusedAdamW(ps, LR, B1, B2, WD);
        backward(ps, 0);
        big.step();
        InputArchive in = throughFile(big::save, "big.pt");
        assertThrows(IllegalArgumentException.class, () -> small.load(in));
    }
}
