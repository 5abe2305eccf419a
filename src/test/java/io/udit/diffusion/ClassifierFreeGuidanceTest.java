package io.udit.diffusion;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * CFG with a fake model whose outputs are known: out[i, c] = x[i, c mod C] + v(y_i, c), where a class k gives
 * v = 10 k + c + 1 and the null class gives v = -(c + 1). Guided channels must equal
 * x + v_uncond + s (v_cond - v_uncond); the others keep the conditional output.
 */
class ClassifierFreeGuidanceTest {
    static final long NULL = 10;
    static final long C = 4;
    static final double SCALE = 4.0;

    @BeforeAll
    static void init() {
        Engine.init();
    }

    static final class FakeModel implements DenoiserFn {
        final List<long[]> ys = new ArrayList<>();
        final List<long[]> ts = new ArrayList<>();

        @Override
        public Tensor apply(Tensor x, Tensor t, Tensor y) {
            long[] yv = Tensors.toLongs(y);
            ys.add(yv);
            ts.add(Tensors.toLongs(t));
            long n = x.size(0), h = x.size(2), w = x.size(3);
            float[] v = new float[(int) (n * 2 * C * h * w)];
            int k = 0;
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < 2 * C; c++) {
                    for (int p = 0; p < h * w; p++) v[k++] = (float) value(yv[i], c);
                }
            }
            Tensor xx = torch.cat(new TensorVector(x, x), 1);
            return xx.add(Tensors.floats(v, n, 2 * C, h, w));
        }

        static double value(long y, int c) {
            return y == NULL ? -(c + 1) : 10 * y + c + 1;
        }
    }

    /** Expected guided output for conditional row i. */
    static double expected(Tensor x, int i, int c, long y, int guidedChannels) {
        double xv = x.select(0, i).select(0, c % (int) C).select(0, 0).select(0, 0).item_double();
        double cond = FakeModel.value(y, c), uncond = FakeModel.value(NULL, c);
        return c < guidedChannels ? xv + uncond + SCALE * (cond - uncond) : xv + cond;
    }

    static void assertRows(Tensor out, Tensor x, long[] y, int guidedChannels) {
        assertArrayEquals(new long[] {y.length, 2 * C, 2, 2}, Tensors.shape(out));
        for (int i = 0; i < y.length; i++) {
            for (int c = 0; c < 2 * C; c++) {
                double got = out.select(0, i).select(0, c).select(0, 1).select(0, 1).item_double();
                assertEquals(expected(x, i, c, y[i], guidedChannels), got, 1e-4, "row " + i + " channel " + c);
            }
        }
    }

    /** x constant over space per (row, channel), so expected values read one pixel. */
    static Tensor input(long n) {
        return torch.arange(new org.bytedeco.pytorch.Scalar(n * C)).to(org.bytedeco.pytorch.global.torch.ScalarType.Float)
                .mul(GaussianDiffusion.s(0.25)).reshape(n, C, 1, 1).expand(n, C, 2, 2).contiguous();
    }

    @Test
    void referenceModeGuidesChannelsZeroToTwoOnly() {
        FakeModel model = new FakeModel();
        Tensor x = input(2);
        long[] y = {3, 7};
        Tensor out = ClassifierFreeGuidance.guided(model, NULL, SCALE, ClassifierFreeGuidance.Mode.REFERENCE)
                .apply(x, Tensors.longs(500, 20), Tensors.longs(y));
        assertRows(out, x, y, 3);
        // one model call on the doubled batch [cond; uncond]
        assertEquals(1, model.ys.size());
        assertArrayEquals(new long[] {3, 7, NULL, NULL}, model.ys.get(0));
        assertArrayEquals(new long[] {500, 20, 500, 20}, model.ts.get(0));
    }

    @Test
    void standardModeGuidesAllEpsChannels() {
        FakeModel model = new FakeModel();
        Tensor x = input(2);
        long[] y = {3, 7};
        Tensor out = ClassifierFreeGuidance.guided(model, NULL, SCALE, ClassifierFreeGuidance.Mode.STANDARD)
                .apply(x, Tensors.longs(500, 20), Tensors.longs(y));
        assertRows(out, x, y, (int) C);
    }

    @Test
    void doubledBatchFormIsTheReferenceForwardWithCfg() {
        FakeModel model = new FakeModel();
        Tensor xa = input(2);
        Tensor xb = xa.add(GaussianDiffusion.s(100.0)); // the second half of x must be ignored
        Tensor x = torch.cat(new TensorVector(xa, xb), 0);
        Tensor y = Tensors.longs(3, 7, NULL, NULL);
        Tensor out = ClassifierFreeGuidance.forwardWithCfg(model, x, Tensors.longs(500, 500, 500, 500), y, SCALE,
                ClassifierFreeGuidance.Mode.REFERENCE);
        assertArrayEquals(new long[] {4, 2 * C, 2, 2}, Tensors.shape(out));
        assertRows(out.narrow(0, 0, 2), xa, new long[] {3, 7}, 3);
        // second half: same guided eps channels; other channels are the unconditional output on x[:n]
        assertTrue(Tensors.maxAbsDiff(out.narrow(0, 2, 2).narrow(1, 0, 3), out.narrow(0, 0, 2).narrow(1, 0, 3)) == 0);
        for (int i = 0; i < 2; i++) {
            for (int c = 3; c < 2 * C; c++) {
                double xv = xa.select(0, i).select(0, c % (int) C).select(0, 0).select(0, 0).item_double();
                double got = out.select(0, 2 + i).select(0, c).select(0, 0).select(0, 0).item_double();
                assertEquals(xv + FakeModel.value(NULL, c), got, 1e-4);
            }
        }
    }

    @Test
    void scaleOneIsTheConditionalModel() {
        FakeModel model = new FakeModel();
        Tensor x = input(2);
        Tensor y = Tensors.longs(3, 7);
        Tensor guided = ClassifierFreeGuidance.guided(model, NULL, 1.0, ClassifierFreeGuidance.Mode.STANDARD)
                .apply(x, Tensors.longs(1, 1), y);
        Tensor cond = model.apply(x, Tensors.longs(1, 1), y);
        assertTrue(Tensors.maxAbsDiff(guided, cond) < 1e-5);
    }
}
