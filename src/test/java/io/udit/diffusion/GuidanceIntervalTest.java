package io.udit.diffusion;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.transport.FlowModel;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Guidance limited to an interval of normalised time (0 noise, 1 data): rows inside get exactly the always-guided
 * output, rows outside exactly the conditional output, for DDPM timesteps and for SiT flow times.
 */
class GuidanceIntervalTest {
    static final long NULL = ClassifierFreeGuidanceTest.NULL;

    @BeforeAll
    static void init() {
        Engine.init();
    }

    static Tensor x(long n) {
        return NoiseSource.seeded(4).next(new long[] {n, ClassifierFreeGuidanceTest.C, 2, 2});
    }

    @Test
    void ddpmTimestepsMapToNormalisedTime() {
        GuidanceInterval g = GuidanceInterval.ddpm(0.3, 0.7, 1000);
        assertArrayEquals(new double[] {0.0, 0.5, 0.999}, Tensors.toDoubles(g.normalisedTime(Tensors.longs(999, 499, 0))), 1e-12);
        assertArrayEquals(new long[] {0, 1, 0}, Tensors.toLongs(g.contains(Tensors.longs(999, 499, 0))));
    }

    @Test
    void ddpmRowsInsideAreGuidedAndRowsOutsideConditional() {
        ClassifierFreeGuidanceTest.FakeModel model = new ClassifierFreeGuidanceTest.FakeModel();
        GuidanceInterval g = GuidanceInterval.ddpm(0.3, 0.7, 1000);
        DenoiserFn limited = ClassifierFreeGuidance.guided(model, NULL, 4.0, ClassifierFreeGuidance.Mode.STANDARD, g);
        DenoiserFn always = ClassifierFreeGuidance.guided(model, NULL, 4.0, ClassifierFreeGuidance.Mode.STANDARD);
        Tensor xs = x(3), y = Tensors.longs(1, 2, 3);
        Tensor t = Tensors.longs(499, 100, 900); // s = 0.5 (inside), 0.899, 0.099 (outside)
        Tensor out = limited.apply(xs, t, y);
        Tensor guided = always.apply(xs, t, y), cond = model.apply(xs, t, y);
        assertTrue(out.select(0, 0).equal(guided.select(0, 0)));
        assertTrue(out.select(0, 1).equal(cond.select(0, 1)));
        assertTrue(out.select(0, 2).equal(cond.select(0, 2)));
        assertTrue(!guided.select(0, 1).equal(cond.select(0, 1)), "the fake model's guidance changes the output");
    }

    @Test
    void flowTimesOutsideRunTheConditionalModelOnly() {
        ClassifierFreeGuidanceTest.FakeModel model = new ClassifierFreeGuidanceTest.FakeModel();
        DenoiserFn limited = ClassifierFreeGuidance.guided(model, NULL, 2.0, ClassifierFreeGuidance.Mode.REFERENCE,
                GuidanceInterval.flow(0.2, 0.6));
        DenoiserFn always = ClassifierFreeGuidance.guided(model, NULL, 2.0, ClassifierFreeGuidance.Mode.REFERENCE);
        Tensor xs = x(2), y = Tensors.longs(5, 6);
        FlowModel flow = FlowModel.conditional(limited, y);
        Tensor inside = torch.full(new long[] {2}, new org.bytedeco.pytorch.Scalar(0.4), Tensors.options(torch.ScalarType.Double));
        Tensor outside = torch.full(new long[] {2}, new org.bytedeco.pytorch.Scalar(0.9), Tensors.options(torch.ScalarType.Double));
        long c = ClassifierFreeGuidanceTest.C; // FlowModel.conditional keeps the first C of the fake model's 2C channels
        assertTrue(flow.apply(xs, inside).equal(always.apply(xs, inside, y).narrow(1, 0, c)));
        int calls = model.ys.size();
        Tensor plain = flow.apply(xs, outside);
        assertEquals(calls + 1, model.ys.size());
        assertEquals(2, model.ys.get(model.ys.size() - 1).length, "outside the interval the model sees n rows, not 2n");
        assertTrue(plain.equal(model.apply(xs, outside, y).narrow(1, 0, c)));
    }

    @Test
    void doubledBatchFormFollowsTheInterval() {
        ClassifierFreeGuidanceTest.FakeModel model = new ClassifierFreeGuidanceTest.FakeModel();
        GuidanceInterval g = GuidanceInterval.ddpm(0.3, 0.7, 1000);
        DenoiserFn limited = ClassifierFreeGuidance.doubledBatch(model, 3.0, ClassifierFreeGuidance.Mode.REFERENCE, g);
        Tensor half = x(2), xs = torch.cat(new org.bytedeco.pytorch.TensorVector(half, half), 0);
        Tensor y = Tensors.longs(1, 2, NULL, NULL);
        Tensor inside = Tensors.longs(499, 499, 499, 499), outside = Tensors.longs(100, 100, 100, 100);
        Tensor mixed = Tensors.longs(499, 100, 499, 100);
        Tensor guided = ClassifierFreeGuidance.forwardWithCfg(model, xs, inside, y, 3.0, ClassifierFreeGuidance.Mode.REFERENCE);
        assertTrue(limited.apply(xs, inside, y).equal(guided));
        Tensor cond = model.apply(half, outside.narrow(0, 0, 2), y.narrow(0, 0, 2));
        Tensor plain = limited.apply(xs, outside, y);
        assertTrue(plain.equal(torch.cat(new org.bytedeco.pytorch.TensorVector(cond, cond), 0)));
        Tensor m = limited.apply(xs, mixed, y);
        assertTrue(m.select(0, 0).equal(guided.select(0, 0)) && m.select(0, 2).equal(guided.select(0, 2)));
        assertTrue(m.select(0, 1).equal(cond.select(0, 1)) && m.select(0, 3).equal(cond.select(0, 1)));
    }
}
