package io.udit.diffusion;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Samplers against exact ("oracle") denoisers for Gaussian data N(mu_c, s^2) and for a point mass, where the
 * probability-flow ODE and the data distribution are known in closed form.
 */
class SamplerTest {
    static final double[] MU = {1.5, -1.0, 0.5, -2.0};
    static GaussianDiffusion diffusion;
    static NoiseSchedule base;

    @BeforeAll
    static void init() {
        Engine.init();
        diffusion = GaussianDiffusion.create("");
        base = diffusion.baseSchedule();
    }

    static double rms(Tensor a, Tensor b) {
        return a.sub(b).square().mean().sqrt().item_double();
    }

    /** x_T, the start of every deterministic comparison. */
    static Tensor startNoise(long... shape) {
        return NoiseSource.seeded(1).next(shape);
    }

    static Tensor run(Sampler sampler, DenoiserFn model, Tensor xT) {
        return sampler.sample(model, xT, null, NoiseSource.seeded(2), ProgressListener.NONE);
    }

    /** Original timestep a section-respaced sampler starts from. */
    static int start(DdimSampler s) {
        int[] map = s.diffusion().timestepMap();
        return map[map.length - 1];
    }

    @Test
    void deterministicSamplersFollowTheExactOde() {
        Tensor xT = startNoise(16, 4, 8, 8);
        for (double s : new double[] {0.5, 1.0}) {
            GaussianOracle oracle = new GaussianOracle(base, MU, s, null);

            DdimSampler ddim50 = DdimSampler.of(diffusion, 50, 0.0);
            Tensor a = run(ddim50, oracle, xT);
            double eDdim50 = Tensors.maxAbsDiff(a, oracle.odeTarget(xT, start(ddim50), -1));

            DdimSampler ddim20 = DdimSampler.of(diffusion, 20, 0.0);
            Tensor b = run(ddim20, oracle, xT);
            Tensor ddim20Target = oracle.odeTarget(xT, start(ddim20), -1);
            double eDdim20 = Tensors.maxAbsDiff(b, ddim20Target), rDdim20 = rms(b, ddim20Target);

            DpmSolverPlusPlus dpm = DpmSolverPlusPlus.of(diffusion, 20);
            assertEquals(20, dpm.modelEvaluations());
            Tensor c = run(dpm, oracle, xT);
            Tensor dpmTarget = oracle.odeTarget(xT, 999, 0); // DPM-Solver ends at t = 0 (sigma_0 = 0.01)
            double eDpm = Tensors.maxAbsDiff(c, dpmTarget), rDpm = rms(c, dpmTarget);

            System.out.printf("s=%.1f vs exact ODE (max abs / rms): DDIM-50 %.3f, DDIM-20 %.3f / %.4f, "
                    + "DPM-Solver++(2M)-20 %.3f / %.4f%n", s, eDdim50, eDdim20, rDdim20, eDpm, rDpm);
            // a wrong sign or coefficient gives errors of order 1 (the data spread is |mu| + 3s)
            assertTrue(eDdim50 < 0.2, "DDIM-50 max error " + eDdim50);
            assertTrue(eDpm < 0.12, "DPM-Solver++ max error " + eDpm);
            assertTrue(eDpm < eDdim20 / 3 && rDpm < rDdim20 / 3,
                    "DPM-Solver++ at 20 steps must beat DDIM at 20 steps: " + eDpm + " vs " + eDdim20);
        }
    }

    @Test
    void allSamplersLandOnAPointMass() {
        GaussianOracle oracle = new GaussianOracle(base, MU, 0.0, -1.0); // learned-range output at the small end
        Tensor xT = startNoise(8, 4, 8, 8);
        Tensor star = oracle.muTensor().expand(8, 4, 8, 8);
        assertTrue(Tensors.maxAbsDiff(run(DdpmSampler.of(diffusion, 250), oracle, xT), star) < 1e-4);
        assertTrue(Tensors.maxAbsDiff(run(DdimSampler.of(diffusion, 50, 0.0), oracle, xT), star) < 1e-4);
        assertTrue(Tensors.maxAbsDiff(run(DdimSampler.of(diffusion, 50, 1.0), oracle, xT), star) < 1e-4);
        DpmSolverPlusPlus denoised = new DpmSolverPlusPlus(base, 20, DpmSolverPlusPlus.Spacing.TIME_UNIFORM, false,
                true, true);
        assertEquals(21, denoised.modelEvaluations());
        assertTrue(Tensors.maxAbsDiff(run(denoised, oracle, xT), star) < 1e-4);
        // without the final denoising evaluation DPM-Solver stops at t = 0, i.e. sigma_0 = 0.01 of noise is left
        double e = Tensors.maxAbsDiff(run(DpmSolverPlusPlus.of(diffusion, 20), oracle, xT), star);
        assertTrue(e < 0.06, "DPM-Solver++ at t = 0: " + e);
    }

    @Test
    void ddpmLandsOnTheDataDistribution() {
        // For N(mu, 1) data the true reverse-step variance is beta_t, i.e. fixed-large is exact.
        long[] shape = {32, 4, 16, 16}; // 8192 values per channel: std error of the mean 0.011
        DdpmSampler ddpm = DdpmSampler.of(diffusion, 250);
        assertEquals(250, ddpm.modelEvaluations());
        Tensor fixedLarge = ddpm.sample(new GaussianOracle(base, MU, 1.0, null), shape, null, 11L, ProgressListener.NONE);
        double[][] st = GaussianOracle.channelStats(fixedLarge);
        System.out.printf("DDPM-250 on N(mu, 1): channel means %s (mu %s), stds %s%n",
                java.util.Arrays.toString(st[0]), java.util.Arrays.toString(MU), java.util.Arrays.toString(st[1]));
        for (int c = 0; c < 4; c++) {
            assertEquals(MU[c], st[0][c], 0.06, "mean of channel " + c);
            assertEquals(1.0, st[1][c], 0.05, "std of channel " + c);
        }
        // learned range at v = +1 is log(beta_t): the same process as fixed-large (t = 0 adds no noise)
        Tensor learnedMax = ddpm.sample(new GaussianOracle(base, MU, 1.0, 1.0), shape, null, 11L, ProgressListener.NONE);
        assertTrue(Tensors.maxAbsDiff(learnedMax, fixedLarge) < 1e-4);
        // ... and v = -1 (posterior variance) is a different process: the variance channels are used
        Tensor learnedMin = ddpm.sample(new GaussianOracle(base, MU, 1.0, -1.0), shape, null, 11L, ProgressListener.NONE);
        assertTrue(Tensors.maxAbsDiff(learnedMin, fixedLarge) > 1e-2);
        double[][] stMin = GaussianOracle.channelStats(learnedMin);
        for (int c = 0; c < 4; c++) assertTrue(stMin[1][c] < st[1][c], "smaller variance gives a smaller spread");
    }

    @Test
    void sdeDpmSolverLandsOnTheDataDistribution() {
        // N(mu, 0.5^2) data: the stochastic solver's 25 steps must reproduce mean and spread of the data; the noise it
        // injects must matter (another noise stream from the same x_T gives other samples) and, unlike the ODE
        // solver's, its result must not be a function of x_T
        long[] shape = {32, 4, 16, 16};
        double s = 0.5;
        GaussianOracle oracle = new GaussianOracle(base, MU, s, null);
        DpmSolverPlusPlus sde = new DpmSolverPlusPlus(base, 25, DpmSolverPlusPlus.Spacing.TIME_UNIFORM, false, false, true, true);
        assertTrue(sde.toString().startsWith("SdeDpmSolverPlusPlus"));
        assertEquals(25, sde.modelEvaluations());
        Tensor xT = startNoise(shape);
        Tensor a = sde.sample(oracle, xT, null, NoiseSource.seeded(7), ProgressListener.NONE);
        double[][] st = GaussianOracle.channelStats(a);
        System.out.printf("SDE-DPM-Solver++(2M)-25 on N(mu, 0.25): channel means %s (mu %s), stds %s%n",
                java.util.Arrays.toString(st[0]), java.util.Arrays.toString(MU), java.util.Arrays.toString(st[1]));
        for (int c = 0; c < 4; c++) {
            assertEquals(MU[c], st[0][c], 0.03, "mean of channel " + c);
            assertEquals(s, st[1][c], 0.03, "std of channel " + c);
        }
        Tensor b = sde.sample(oracle, xT, null, NoiseSource.seeded(8), ProgressListener.NONE);
        Tensor ode = run(DpmSolverPlusPlus.of(diffusion, 25), oracle, xT);
        assertTrue(Tensors.maxAbsDiff(a, b) > 0.5, "the injected noise must change the samples");
        assertTrue(rms(a, ode) > 0.1, "the stochastic solver must not follow the ODE");
    }

    @Test
    void sameSeedSameSamples() {
        long[] shape = {2, 4, 8, 8};
        GaussianOracle oracle = new GaussianOracle(base, MU, 0.5, 0.0);
        List<Sampler> samplers = List.of(DdpmSampler.of(diffusion, 25), DdimSampler.of(diffusion, 10, 1.0),
                DdimSampler.of(diffusion, 10, 0.0), DpmSolverPlusPlus.of(diffusion, 10),
                new DpmSolverPlusPlus(base, 10, DpmSolverPlusPlus.Spacing.TIME_UNIFORM, false, false, true, true));
        for (Sampler s : samplers) {
            Tensor a = s.sample(oracle, shape, null, 42L, ProgressListener.NONE);
            Tensor b = s.sample(oracle, shape, null, 42L, ProgressListener.NONE);
            Tensor c = s.sample(oracle, shape, null, 43L, ProgressListener.NONE);
            assertTrue(a.equal(b), s + ": same seed must give identical samples");
            assertFalse(a.equal(c), s + ": another seed must give other samples");
            assertFalse(a.is_inference(), "results are usable outside inference mode");
        }
        // explicit noise: the same x_T gives the same deterministic result whatever the noise source
        Tensor xT = startNoise(shape);
        Sampler ddim = DdimSampler.of(diffusion, 10, 0.0);
        assertTrue(ddim.sample(oracle, xT, null, NoiseSource.seeded(5), ProgressListener.NONE)
                .equal(ddim.sample(oracle, xT, null, NoiseSource.seeded(6), ProgressListener.NONE)));
    }

    @Test
    void progressListenerSeesEveryStepAndModelSeesOriginalTimesteps() {
        List<int[]> calls = new ArrayList<>();
        List<Long> seen = new ArrayList<>();
        GaussianOracle oracle = new GaussianOracle(base, MU, 0.5, null);
        DenoiserFn recording = (x, t, y) -> {
            seen.add(Tensors.toLongs(t)[0]);
            return oracle.apply(x, t, y);
        };
        DdimSampler ddim = DdimSampler.of(diffusion, "ddim10", 0.0);
        ddim.sample(recording, new long[] {1, 4, 4, 4}, null, 1L, (step, total) -> calls.add(new int[] {step, total}));
        assertEquals(10, calls.size());
        for (int i = 0; i < 10; i++) assertArrayEquals(new int[] {i + 1, 10}, calls.get(i));
        assertEquals(List.of(900L, 800L, 700L, 600L, 500L, 400L, 300L, 200L, 100L, 0L), seen);

        seen.clear();
        calls.clear();
        DpmSolverPlusPlus dpm = DpmSolverPlusPlus.of(diffusion, 4);
        assertArrayEquals(new int[] {999, 749, 500, 250, 0}, dpm.timesteps());
        dpm.sample(recording, new long[] {1, 4, 4, 4}, null, 1L, (step, total) -> calls.add(new int[] {step, total}));
        assertEquals(List.of(999L, 749L, 500L, 250L), seen);
        assertEquals(4, calls.size());
        assertArrayEquals(new int[] {4, 4}, calls.get(3));
    }

    @Test
    void dpmSolverUsesOnlyTheEpsChannels() {
        Tensor xT = startNoise(4, 4, 8, 8);
        Tensor plain = run(DpmSolverPlusPlus.of(diffusion, 15), new GaussianOracle(base, MU, 0.5, null), xT);
        Tensor learned = run(DpmSolverPlusPlus.of(diffusion, 15), new GaussianOracle(base, MU, 0.5, 0.7), xT);
        assertTrue(plain.equal(learned));
    }

    @Test
    void nativeMemoryStaysFlatWhileSampling() {
        long[] shape = {8, 4, 32, 32}; // ~4 MB of temporaries per step without the per-step PointerScope
        GaussianOracle oracle = new GaussianOracle(base, MU, 1.0, 0.0);
        List<Sampler> samplers = List.of(DdpmSampler.of(diffusion, 250), DdimSampler.of(diffusion, 100, 1.0),
                DpmSolverPlusPlus.of(diffusion, 100));
        for (Sampler s : samplers) s.sample(oracle, shape, null, 3L, ProgressListener.NONE); // warm up
        long before = Pointer.physicalBytes();
        assertTrue(before > 0, "physical memory unavailable (" + before + "): the flatness check would pass vacuously");
        for (Sampler s : samplers) s.sample(oracle, shape, null, 3L, ProgressListener.NONE);
        long grown = Pointer.physicalBytes() - before;
        System.out.printf("RSS growth over 450 sampling steps: %d MB%n", grown >> 20);
        // without the scopes this grew by ~800 MB for the DDPM run alone
        assertTrue(grown < (150L << 20), "native memory grew by " + (grown >> 20) + " MB");
    }
}
