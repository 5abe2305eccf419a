package io.udit.diffusion;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Schedules and respacing against values computed with the Python reference formulas (float64). */
class ScheduleAndRespacingTest {
    @BeforeAll
    static void init() {
        Engine.init();
    }

    static void assertRel(double expected, double actual, double tol, String what) {
        assertTrue(Math.abs(actual - expected) <= tol * Math.abs(expected),
                what + ": expected " + expected + ", got " + actual);
    }

    @Test
    void cosineScheduleMatchesImprovedDdpm() {
        NoiseSchedule s = NoiseSchedule.named("cosine", 1000);
        double[] b = s.betas();
        // betas_for_alpha_bar(1000, cos((t + 0.008) / 1.008 * pi / 2) ** 2), computed in Python
        assertRel(4.128422482196914e-05, b[0], 1e-12, "beta_0");
        assertRel(4.614175273665033e-05, b[1], 1e-12, "beta_1");
        assertRel(0.003155691441585007, b[500], 1e-12, "beta_500");
        assertRel(0.7499993929011166, b[998], 1e-12, "beta_998");
        assertEquals(0.999, b[999], 0.0, "beta_999 is capped at max_beta");
        double[] ac = s.alphasCumprod();
        assertRel(0.999958715775178, ac[0], 1e-12, "alpha_bar_0");
        assertRel(0.49228517244880304, ac[500], 1e-12, "alpha_bar_500");
        assertRel(2.4287669070348544e-06, ac[998], 1e-10, "alpha_bar_998");
        assertArrayEquals(b, NoiseSchedule.named("squaredcos_cap_v2", 1000).betas());
    }

    @Test
    void linearScheduleScalesWithStepCount() {
        double[] b = NoiseSchedule.linearBetas(250); // scale 4: linspace(4e-4, 0.08, 250)
        assertRel(0.0004, b[0], 1e-15, "beta_0");
        assertRel(0.0007196787148594378, b[1], 1e-15, "beta_1");
        assertRel(0.03972048192771084, b[123], 1e-15, "beta_123");
        assertEquals(0.08, b[249], 0.0);
        assertThrows(IllegalArgumentException.class, () -> NoiseSchedule.named("quadratic", 10));
    }

    @Test
    void derivedTablesFollowTheirDefinitions() {
        NoiseSchedule s = NoiseSchedule.named("linear", 1000);
        double[] b = s.betas(), ac = s.alphasCumprod(), acp = s.alphasCumprodPrev(), acn = s.alphasCumprodNext();
        double[] pv = s.posteriorVariance(), plv = s.posteriorLogVarianceClipped();
        assertEquals(1.0, acp[0]);
        assertEquals(0.0, acn[999]);
        assertEquals(0.0, pv[0]);
        assertEquals(Math.log(pv[1]), plv[0]);
        for (int i = 1; i < 1000; i++) {
            assertRel(ac[i - 1] * (1 - b[i]), ac[i], 1e-14, "cumprod " + i);
            assertEquals(ac[i - 1], acp[i]);
            assertRel(Math.log(pv[i]), plv[i], 1e-14, "log posterior variance " + i);
            // noiseless path x_0 = 1, x_t = sqrt(alpha_bar_t): the posterior mean is sqrt(alpha_bar_{t-1})
            double mean = s.posteriorMeanCoef1()[i] * 1 + s.posteriorMeanCoef2()[i] * Math.sqrt(ac[i]);
            assertRel(Math.sqrt(ac[i - 1]), mean, 1e-12, "posterior mean of the noiseless path " + i);
        }
    }

    @Test
    void spaceTimestepsFollowsTheReference() {
        assertArrayEquals(new int[] {0, 37, 74, 111, 148, 185, 222, 259, 296, 333, 334, 358, 381, 405, 429, 453,
                476, 500, 524, 547, 571, 595, 619, 642, 666, 667, 684, 702, 719, 737, 754, 772, 789, 807, 824, 842,
                859, 877, 894, 912, 929, 947, 964, 982, 999}, Respacing.spaceTimesteps(1000, "10,15,20"));
        assertArrayEquals(new int[] {0, 53, 105, 158, 210, 263, 315, 368, 421, 473, 526, 578, 631, 684, 736, 789,
                841, 894, 946, 999}, Respacing.spaceTimesteps(1000, "20"));
        assertArrayEquals(new int[] {0, 50, 100, 150, 199, 249, 299}, Respacing.spaceTimesteps(300, "7"));
        assertArrayEquals(IntStream.range(0, 50).map(i -> 20 * i).toArray(), Respacing.spaceTimesteps(1000, "ddim50"));
        assertArrayEquals(IntStream.range(0, 250).map(i -> 4 * i).toArray(), Respacing.spaceTimesteps(1000, "ddim250"));
        assertArrayEquals(IntStream.range(0, 1000).toArray(), Respacing.spaceTimesteps(1000, ""));
        assertThrows(IllegalArgumentException.class, () -> Respacing.spaceTimesteps(1000, "ddim600"));
        assertThrows(IllegalArgumentException.class, () -> Respacing.spaceTimesteps(1000, "1001"));
    }

    @Test
    void respacingKeepsAlphasCumprodAndMapsTimesteps() {
        NoiseSchedule base = NoiseSchedule.named("linear", 1000);
        Respacing.Spaced sp = Respacing.respace(base, "ddim50");
        double[] ac = sp.schedule().alphasCumprod();
        int[] map = sp.timestepMap();
        assertEquals(50, ac.length);
        for (int k = 0; k < 50; k++) {
            assertEquals(20 * k, map[k]);
            assertRel(base.alphasCumprod()[map[k]], ac[k], 1e-13, "kept alpha_bar " + k);
        }
        GaussianDiffusion d = GaussianDiffusion.create("ddim50");
        Tensor t = Tensors.longs(0, 1, 49);
        assertArrayEquals(new long[] {0, 20, 980}, Tensors.toLongs(d.mapTimesteps(t)));
        // respacing always starts from the base process
        assertArrayEquals(GaussianDiffusion.create("250").timestepMap(), d.respaced("250").timestepMap());
    }

    @Test
    void fixedVariancesFollowTheReference() {
        GaussianDiffusion large = GaussianDiffusion.create("");
        GaussianDiffusion small = GaussianDiffusion.create("",
                new GaussianDiffusion.Options("linear", 1000, true, false, false));
        assertEquals(GaussianDiffusion.FixedVariance.LARGE, large.fixedVariance());
        assertEquals(GaussianDiffusion.FixedVariance.SMALL, small.fixedVariance());
        Tensor x = torch.zeros(3, 4, 2, 2);
        Tensor eps = torch.zeros(3, 4, 2, 2); // C channels: fixed variance
        Tensor t = Tensors.longs(0, 1, 500);
        NoiseSchedule s = large.schedule();
        double[] lv = Tensors.toDoubles(large.pMeanVariance(eps, x, t, false).variance().select(1, 0).select(1, 0)
                .select(1, 0));
        assertRel((float) s.posteriorVariance()[1], lv[0], 1e-7, "large variance at t=0 is the posterior variance at 1");
        assertRel((float) s.betas()[1], lv[1], 1e-7, "large variance at t=1");
        assertRel((float) s.betas()[500], lv[2], 1e-7, "large variance at t=500");
        double[] sv = Tensors.toDoubles(small.pMeanVariance(eps, x, t, false).logVariance().select(1, 0).select(1, 0)
                .select(1, 0));
        assertRel((float) s.posteriorLogVarianceClipped()[500], sv[2], 1e-7, "small log variance at t=500");
        assertThrows(IllegalArgumentException.class, () -> large.pMeanVariance(torch.zeros(3, 6, 2, 2), x, t, false));
    }

    @Test
    void shiftedCosineMultipliesTheSnrAndNamesAreChecked() {
        assertArrayEquals(NoiseSchedule.cosineBetas(1000), NoiseSchedule.namedBetas("cosine-shift1", 1000), "K = 1 is the cosine schedule");
        double[] ab = NoiseSchedule.named("cosine", 1000).alphasCumprod();
        double[] ab4 = NoiseSchedule.named("cosine-shift4", 1000).alphasCumprod();
        for (int t : new int[] {0, 100, 500, 900, 990}) {
            double snr = ab[t] / (1 - ab[t]), snr4 = ab4[t] / (1 - ab4[t]);
            // exact up to the schedules' normalisation by alpha_bar(0) (0.99984 vs 0.99996): 3.9995 everywhere
            assertEquals(4.0, snr4 / snr, 1e-3, "SNR ratio at t = " + t);
        }
        for (int t = 1; t < 1000; t++) assertTrue(ab4[t] < ab4[t - 1], "alpha_bar decreases");
        assertTrue(ab4[999] < 1e-6, "ends in noise: " + ab4[999]);
        for (String bad : new String[] {"cosine-shift0", "cosine-shift", "cosine-shiftx", "cosine-shift-3", "cosine-shift1e9", "cosine-shiftNaN", "quadratic"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NoiseSchedule.named(bad, 1000), bad);
            assertTrue(e.getMessage().contains(bad), e.getMessage());
            assertTrue(!NoiseSchedule.isKnown(bad), bad);
        }
        assertTrue(NoiseSchedule.isKnown("cosine-shift2.5") && NoiseSchedule.isKnown("linear") && NoiseSchedule.isKnown("cosine"));
    }
}
