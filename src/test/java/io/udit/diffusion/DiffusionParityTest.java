package io.udit.diffusion;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.testing.Fixture;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Parity with the udit-tiny fixture's ddpm1000/*, ddpm/* and ddpm250/* entries (DiT's create_diffusion, a stand-in
 * model returning ddpm/model_output). Calls worked out from the fixture: x = ddpm/q_sample (= q_sample(x0, t, noise)),
 * t = ddpm/t on the 1000-step process and ddpm250/t on the "250" respacing; training_losses(x0, t, noise).
 */
class DiffusionParityTest {
    static final double TOL = 1e-6;
    static Fixture fx;
    static final Map<String, Double> errors = new TreeMap<>();

    @BeforeAll
    static void load() {
        Engine.init();
        fx = Fixture.tiny();
    }

    @AfterAll
    static void report() {
        StringBuilder sb = new StringBuilder("ddpm parity (relative error ||a-b||/||b||):\n");
        errors.forEach((k, v) -> sb.append(String.format("  %-52s %.3e%n", k, v)));
        System.out.print(sb);
    }

    static void check(String name, Tensor actual) {
        Tensor expected = fx.tensor(name);
        assertArrayEquals(Tensors.shape(expected), Tensors.shape(actual), name + " shape");
        double err = Tensors.relativeError(actual, expected);
        errors.put(name, err);
        assertTrue(err <= TOL, name + ": relative error " + err);
    }

    static void check(String name, double[] actual) {
        check(name, Tensors.doubles(actual, actual.length));
    }

    static void checkExactLongs(String name, long[] actual) {
        long[] expected = Tensors.toLongs(fx.tensor(name));
        assertArrayEquals(expected, actual, name);
        errors.put(name, 0.0);
    }

    /** The fixture's stand-in model: returns ddpm/model_output and records the timesteps it saw. */
    static final class Recorder implements DenoiserFn {
        final Tensor output;
        final List<long[]> seen = new ArrayList<>();

        Recorder(Tensor output) {
            this.output = output;
        }

        @Override
        public Tensor apply(Tensor x, Tensor t, Tensor y) {
            seen.add(Tensors.toLongs(t));
            return output;
        }
    }

    @Test
    void linearBetasAreNumpyLinspace() {
        check("ddpm1000/betas_linspace", NoiseSchedule.linearBetas(1000));
    }

    @Test
    void thousandStepTablesMatch() {
        // create_diffusion("") is a SpacedDiffusion over all 1000 steps: betas recomputed from alphas_cumprod
        NoiseSchedule s = GaussianDiffusion.create("").schedule();
        int n = 0;
        for (Fixture.Entry e : fx.withPrefix("ddpm1000/")) {
            String table = e.name().substring("ddpm1000/".length());
            if (table.equals("betas_linspace")) continue;
            check(e.name(), s.table(table));
            n++;
        }
        assertEquals(11, n, "number of ddpm1000 tables");
        // the recomputed betas differ from linspace by rounding only (checks.max_abs_betas_spaced_vs_linspace)
        double[] lin = NoiseSchedule.linearBetas(1000);
        double[] spaced = s.betas();
        double max = 0;
        for (int i = 0; i < lin.length; i++) max = Math.max(max, Math.abs(lin[i] - spaced[i]));
        assertEquals(1.6653345369377348e-16, max, 0.0, "checks.max_abs_betas_spaced_vs_linspace");
    }

    @Test
    void qSampleMatches() {
        GaussianDiffusion d = GaussianDiffusion.create("");
        check("ddpm/q_sample", d.qSample(fx.tensor("ddpm/x0"), fx.tensor("ddpm/t"), fx.tensor("ddpm/noise")));
    }

    @Test
    void pMeanVarianceMatchesWithAndWithoutClipping() {
        GaussianDiffusion d = GaussianDiffusion.create("");
        Tensor x = fx.tensor("ddpm/q_sample");
        Tensor t = fx.tensor("ddpm/t");
        for (int clip = 0; clip <= 1; clip++) {
            Recorder model = new Recorder(fx.tensor("ddpm/model_output"));
            GaussianDiffusion.MeanVariance out = d.pMeanVariance(model, x, t, null, clip == 1);
            String p = "ddpm/p_mean_variance_clip" + clip + "/";
            check(p + "mean", out.mean());
            check(p + "variance", out.variance());
            check(p + "log_variance", out.logVariance());
            check(p + "pred_xstart", out.predXstart());
            assertEquals(1, model.seen.size());
            checkExactLongs("ddpm/p_mean_variance_model_saw_t", model.seen.get(0));
        }
    }

    @Test
    void pSampleStepMatches() {
        GaussianDiffusion d = GaussianDiffusion.create("");
        Recorder model = new Recorder(fx.tensor("ddpm/model_output"));
        GaussianDiffusion.Step step = d.pSample(model, fx.tensor("ddpm/q_sample"), fx.tensor("ddpm/t"), null, false,
                fx.tensor("ddpm/p_sample_noise"));
        check("ddpm/p_sample_clip0/sample", step.sample());
        // the t = 0 row gets no noise: it equals the mean
        Tensor mean = fx.tensor("ddpm/p_mean_variance_clip0/mean");
        assertTrue(Tensors.maxAbsDiff(step.sample().narrow(0, 0, 1), mean.narrow(0, 0, 1)) < 1e-6);
    }

    @Test
    void trainingLossesMatch() {
        GaussianDiffusion d = GaussianDiffusion.create("");
        assertEquals(GaussianDiffusion.LossType.MSE, d.lossType(), "DiT's create_diffusion uses LossType.MSE");
        Recorder model = new Recorder(fx.tensor("ddpm/model_output"));
        GaussianDiffusion.Losses l = d.trainingLosses(model, fx.tensor("ddpm/x0"), fx.tensor("ddpm/t"), null,
                fx.tensor("ddpm/noise"));
        check("ddpm/training_losses/loss", l.loss());
        check("ddpm/training_losses/mse", l.mse());
        check("ddpm/training_losses/vb", l.vb());
        // the model saw x_t = q_sample and the original timesteps
        assertArrayEquals(Tensors.toLongs(fx.tensor("ddpm/t")), model.seen.get(0));
    }

    @Test
    void respacedTo250Matches() {
        GaussianDiffusion d = GaussianDiffusion.create("250");
        assertEquals(250, d.numTimesteps());
        long[] map = new long[250];
        int[] m = d.timestepMap();
        for (int i = 0; i < 250; i++) map[i] = m[i];
        checkExactLongs("ddpm250/timestep_map", map);
        assertEquals(502, m[125], "kept index 125 is original step 502");
        check("ddpm250/betas", d.schedule().betas());
        check("ddpm250/posterior_log_variance_clipped", d.schedule().posteriorLogVarianceClipped());

        Tensor t = fx.tensor("ddpm250/t");
        Recorder model = new Recorder(fx.tensor("ddpm/model_output"));
        GaussianDiffusion.MeanVariance out = d.pMeanVariance(model, fx.tensor("ddpm/q_sample"), t, null, false);
        check("ddpm250/p_mean_variance_clip0/mean", out.mean());
        check("ddpm250/p_mean_variance_clip0/log_variance", out.logVariance());
        check("ddpm250/p_mean_variance_clip0/pred_xstart", out.predXstart());
        checkExactLongs("ddpm250/model_saw_t", model.seen.get(0));
    }

    @Test
    void everyDdpmFixtureEntryIsChecked() {
        // inputs used as inputs (not outputs) are listed here; everything else must have been compared above
        TreeSet<String> expected = new TreeSet<>();
        for (Fixture.Entry e : fx.group("ddpm")) expected.add(e.name());
        TreeSet<String> inputs = new TreeSet<>(List.of("ddpm/x0", "ddpm/noise", "ddpm/t", "ddpm/model_output",
                "ddpm/p_sample_noise", "ddpm250/t"));
        thousandStepTablesMatch();
        linearBetasAreNumpyLinspace();
        qSampleMatches();
        pMeanVarianceMatchesWithAndWithoutClipping();
        pSampleStepMatches();
        trainingLossesMatch();
        respacedTo250Matches();
        TreeSet<String> covered = new TreeSet<>(errors.keySet());
        covered.addAll(inputs);
        expected.removeAll(covered);
        assertTrue(expected.isEmpty(), "fixture entries never compared: " + expected);
    }
}
