package io.udit.transport;

import io.udit.diffusion.NoiseSource;
import io.udit.diffusion.ProgressListener;
import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Parity with ../shared/fixtures/sit-transport (SiT's transport/ in float64 with an analytic model): every
 * deterministic manifest entry is recomputed in float64 and compared element-wise with
 * |java - ref| <= 1e-10 max(1, |ref|); NaN and +-inf must sit at the same positions. The SDE runs take their noise
 * from the stored sde_noise draws. The samplers run on their own grids ({@link TimeGrid#linspace}), which agree with
 * the manifest's torch.linspace grids to an ulp ({@link #gridsMatchTorchWithinAnUlp}), and their intervals must equal
 * the manifest's t0/t1 exactly (SiT's check_interval).
 */
class TransportParityTest {
    static final double TOL = 1e-10;
    static SitFixture fx;
    static Tensor x1, x0, t4, init, sdeNoise;

    /** The fixture's model: tanh((0.75 x + (-1.25) t_b) + 0.25) + (-0.5) x. */
    static final FlowModel MODEL = (x, t) -> {
        Tensor tb = Ts.expandLike(t, x);
        return x.mul(new Scalar(0.75)).add(tb.mul(new Scalar(-1.25))).add(new Scalar(0.25)).tanh().add(x.mul(new Scalar(-0.5)));
    };

    @BeforeAll
    static void load() {
        Engine.init();
        fx = SitFixture.load();
        x1 = fx.tensor("input/x1");
        x0 = fx.tensor("input/x0");
        t4 = fx.tensor("input/t");
        init = fx.tensor("input/sampler_init");
        sdeNoise = fx.tensor("sde_noise");
    }

    static Transport transport(String path, String pred) {
        return Transport.create(FlowPath.parse(path), Prediction.parse(pred), LossWeight.NONE);
    }

    /** The stored noise, draw k for the k-th stochastic step. */
    static NoiseSource storedNoise() {
        int[] k = {0};
        return shape -> {
            assertArrayEquals(Tensors.shape(init), shape);
            return sdeNoise.select(0, k[0]++);
        };
    }

    /** Our value for one fixture entry (sampler runs are cached by run). */
    static final class Calculator {
        final Map<String, Tensor> runCache = new HashMap<>();
        final Map<String, Map<String, Object>> sdeRuns = new HashMap<>();
        final Map<String, Map<String, Object>> odeRuns = new HashMap<>();

        Calculator() {
            for (Map<String, Object> r : fx.runs("sde")) sdeRuns.put(r.get("prefix") + "/" + r.get("last_step"), r);
            for (Map<String, Object> r : fx.runs("ode")) odeRuns.put((String) r.get("name"), r);
        }

        Tensor compute(String name) {
            String[] p = name.split("/");
            return switch (p[0]) {
                case "path" -> path(p[1], name.substring(("path/" + p[1] + "/").length()));
                case "combo" -> combo(p[1], p[2], name.substring(("combo/" + p[1] + "/" + p[2] + "/").length()));
                case "sde" -> sde(p);
                case "ode" -> ode(name, p);
                default -> throw new IllegalArgumentException("unexpected entry " + name);
            };
        }

        Tensor path(String pathName, String what) {
            FlowPath path = FlowPath.parse(pathName);
            Tensor te = t4.view(4, 1, 1, 1);
            Tensor xt = fx.tensor("path/" + pathName + "/xt");
            Tensor m = MODEL.apply(xt, t4);
            if (what.startsWith("diffusion/")) {
                return path.diffusion(xt, t4, DiffusionForm.parse(what.substring("diffusion/".length())), 1.0).reshape(4);
            }
            return switch (what) {
                case "xt" -> path.plan(t4, x0, x1).xt();
                case "ut" -> path.plan(t4, x0, x1).ut();
                case "alpha_t" -> path.alpha(te).value().reshape(4);
                case "d_alpha_t" -> path.alpha(te).derivative().reshape(4);
                case "sigma_t" -> path.sigma(te).value().reshape(4);
                case "d_sigma_t" -> path.sigma(te).derivative().reshape(4);
                case "d_alpha_alpha_ratio_t" -> path.dAlphaAlphaRatio(te).reshape(4);
                case "compute_drift_mean" -> path.drift(xt, t4).mean();
                case "compute_drift_var" -> path.drift(xt, t4).var().reshape(4);
                case "model_out" -> m;
                case "score_from_velocity" -> path.scoreFromVelocity(m, xt, t4);
                case "noise_from_velocity" -> path.noiseFromVelocity(m, xt, t4);
                case "velocity_from_score" -> path.velocityFromScore(m, xt, t4);
                default -> throw new IllegalArgumentException("unexpected path entry " + what);
            };
        }

        Tensor combo(String pathName, String pred, String what) {
            Tensor xt = fx.tensor("path/" + pathName + "/xt");
            Transport tr = transport(pathName, pred);
            if (what.startsWith("loss/")) {
                LossWeight w = LossWeight.parse(what.substring("loss/".length()));
                Transport weighted = Transport.create(FlowPath.parse(pathName), Prediction.parse(pred), w);
                return weighted.trainingLosses(MODEL, x1, t4, x0).loss();
            }
            if (what.startsWith("sde_drift/")) {
                return tr.sdeDrift(MODEL, DiffusionForm.parse(what.substring("sde_drift/".length())), 1.0).apply(xt, t4);
            }
            return switch (what) {
                case "get_drift" -> tr.drift(MODEL).apply(xt, t4);
                case "get_score" -> tr.score(MODEL).apply(xt, t4);
                default -> throw new IllegalArgumentException("unexpected combo entry " + what);
            };
        }

        /** sde/{path}/{pred}/{method}/{form}/traj or .../final/{last}. */
        Tensor sde(String[] p) {
            String prefix = String.join("/", Arrays.copyOfRange(p, 0, 5));
            boolean traj = p[5].equals("traj");
            String last = traj ? "Mean" : p[6];
            Tensor out = runCache.computeIfAbsent(prefix + "/" + last, key -> {
                Map<String, Object> run = sdeRuns.get(prefix + "/" + ("None".equals(last) ? null : last));
                if (run == null) throw new IllegalStateException("no manifest run for " + key);
                SdeSampler s = new SdeSampler(transport(p[1], p[2]), SdeMethod.parse(p[3]), DiffusionForm.parse(p[4]), 1.0,
                        LastStep.parse(last), 0.04, 10, 1.0);
                assertEquals(SitFixture.number(run.get("t0")), s.interval().t0(), key + " t0");
                assertEquals(SitFixture.number(run.get("t1")), s.interval().t1(), key + " t1");
                return s.trajectory(MODEL, init, storedNoise(), ProgressListener.NONE);
            });
            return traj ? out.narrow(0, 0, out.size(0) - 1) : out.select(0, out.size(0) - 1);
        }

        /** ode/{path}/{pred}/{method}/traj or reverse_final. */
        Tensor ode(String name, String[] p) {
            Map<String, Object> run = odeRuns.get(name);
            boolean reverse = p[4].equals("reverse_final");
            OdeSampler s = new OdeSampler(transport(p[1], p[2]), OdeMethod.parse(p[3]), 10, 1e-6, 1e-3, reverse, 1.0);
            assertEquals(SitFixture.number(run.get("t0")), s.interval().t0(), name + " t0");
            assertEquals(SitFixture.number(run.get("t1")), s.interval().t1(), name + " t1");
            return reverse ? s.sample(MODEL, init, ProgressListener.NONE) : s.trajectory(MODEL, init, ProgressListener.NONE);
        }
    }

    /** Worst relative error over finite reference elements; fails on tolerance or non-finite pattern. */
    static double compare(String name, Tensor actual, Tensor expected, boolean mayBeNonFinite, List<String> failures) {
        if (!Arrays.equals(Tensors.shape(expected), Tensors.shape(actual))) {
            failures.add(name + ": shape " + Tensors.shapeString(actual) + " vs " + Tensors.shapeString(expected));
            return Double.NaN;
        }
        double[] a = Tensors.toDoubles(actual), r = Tensors.toDoubles(expected);
        double worst = 0;
        int patternMismatch = 0, nonFiniteRef = 0;
        for (int i = 0; i < r.length; i++) {
            if (Double.isFinite(r[i])) {
                double err = Math.abs(a[i] - r[i]) / Math.max(1.0, Math.abs(r[i]));
                if (!(err <= TOL)) {
                    if (!Double.isFinite(a[i])) patternMismatch++;
                    worst = Math.max(worst, Double.isNaN(err) ? Double.POSITIVE_INFINITY : err);
                } else {
                    worst = Math.max(worst, err);
                }
            } else {
                nonFiniteRef++;
                boolean same = Double.isNaN(r[i]) ? Double.isNaN(a[i]) : a[i] == r[i];
                if (!same) patternMismatch++;
            }
        }
        if (nonFiniteRef > 0 && !mayBeNonFinite) failures.add(name + ": reference unexpectedly non-finite");
        if (patternMismatch > 0) failures.add(name + ": " + patternMismatch + " NaN/inf positions differ");
        if (worst > TOL) failures.add(name + ": max relative error " + worst);
        return worst;
    }

    @Test
    void everyDeterministicEntryMatches() {
        Set<String> inputs = Set.of("input/x1", "input/x0", "input/t", "input/sampler_init", "sde_noise");
        Set<String> nonfinite = new HashSet<>(fx.nonfinite());
        Calculator calc = new Calculator();
        List<String> failures = new ArrayList<>();
        int compared = 0, nonfiniteCompared = 0;
        double worst = 0;
        String worstName = "";
        for (String name : fx.entries.keySet()) {
            if (inputs.contains(name)) continue;
            double err = compare(name, calc.compute(name), fx.tensor(name), nonfinite.contains(name), failures);
            compared++;
            if (nonfinite.contains(name)) nonfiniteCompared++;
            if (err > worst) {
                worst = err;
                worstName = name;
            }
        }
        System.out.printf("sit-transport parity: %d entries compared (%d with NaN/inf patterns), worst relative error %.3e (%s)%n",
                compared, nonfiniteCompared, worst, worstName);
        assertTrue(failures.isEmpty(), failures.size() + " failures:\n" + String.join("\n", failures));
        assertEquals(fx.entries.size() - inputs.size(), compared, "every deterministic entry is compared");
        assertEquals(nonfinite.size(), nonfiniteCompared, "every non-finite entry is compared");
    }

    @Test
    void gridsMatchTorchWithinAnUlp() {
        int checked = 0;
        for (String section : List.of("ode", "sde")) {
            for (Map<String, Object> run : fx.runs(section)) {
                double[] ref = SitFixture.numbers(run.get("grid"));
                double[] mine = TimeGrid.linspace(SitFixture.number(run.get("t0")), SitFixture.number(run.get("t1")), ref.length);
                for (int i = 0; i < ref.length; i++) {
                    assertTrue(Math.abs(mine[i] - ref[i]) <= 2 * Math.ulp(1.0), section + " grid[" + i + "]: " + mine[i] + " vs " + ref[i]);
                }
                assertEquals(ref[0], mine[0]);
                assertEquals(ref[ref.length - 1], mine[ref.length - 1]);
                checked++;
            }
        }
        assertEquals(72 + 144, checked);
    }

    /** create_transport's eps defaults and the training interval of every combination, as the manifest records them. */
    @Test
    void epsDefaultsAndTrainingIntervals() {
        Map<String, Object> combos = SitFixture.map(fx.manifest.get("combos"));
        assertEquals(9, combos.size());
        for (Map.Entry<String, Object> e : combos.entrySet()) {
            String[] p = e.getKey().split("/");
            Map<String, Object> c = SitFixture.map(e.getValue());
            Transport tr = transport(p[0], p[1]);
            assertEquals(SitFixture.number(c.get("train_eps")), tr.trainEps(), e.getKey());
            assertEquals(SitFixture.number(c.get("sample_eps")), tr.sampleEps(), e.getKey());
            double[] interval = SitFixture.numbers(c.get("training_t_interval"));
            assertEquals(new TimeInterval(interval[0], interval[1]), tr.trainingInterval(), e.getKey());
        }
        Transport forced = Transport.create(FlowPath.parse("GVP"), Prediction.VELOCITY, LossWeight.NONE, 0.1, 0.2);
        assertEquals(0.0, forced.trainEps());
        assertEquals(0.0, forced.sampleEps());
        Transport given = Transport.create(FlowPath.parse("VP"), Prediction.NOISE, LossWeight.NONE, 0.01, 0.02);
        assertEquals(new TimeInterval(0.01, 0.02), new TimeInterval(given.trainEps(), given.sampleEps()));
        Transport ignored = Transport.create(FlowPath.parse("Linear"), Prediction.SCORE, LossWeight.NONE, null, 0.2);
        assertEquals(1e-3, ignored.sampleEps());
    }

    /** dopri5 (torchdiffeq's controller) against a 2000-step rk4 solution of the same ODE, both directions. */
    @Test
    void dopri5AgreesWithAFineRk4Solution() {
        for (boolean reverse : new boolean[] {false, true}) {
            Transport tr = transport("GVP", "velocity");
            Tensor fine = new OdeSampler(tr, OdeMethod.RK4, 2001, 0, 0, reverse, 1.0).sample(MODEL, init, ProgressListener.NONE);
            double tight = maxAbs(new OdeSampler(tr, OdeMethod.DOPRI5, 10, 1e-9, 1e-9, reverse, 1.0)
                    .sample(MODEL, init, ProgressListener.NONE).sub(fine));
            double loose = maxAbs(new OdeSampler(tr, OdeMethod.DOPRI5, 10, 1e-6, 1e-3, reverse, 1.0)
                    .sample(MODEL, init, ProgressListener.NONE).sub(fine));
            System.out.printf("dopri5 vs rk4(2000 steps), reverse=%b: max |diff| %.2e at atol=rtol=1e-9, %.2e at SiT's 1e-6/1e-3%n",
                    reverse, tight, loose);
            assertTrue(tight < 1e-7, "tight dopri5 error " + tight);
            assertTrue(loose < 1e-2, "SiT-default dopri5 error " + loose);
        }
    }

    /** dopri5's interpolated states at the grid points match rk4 at the same points, and the first is init. */
    @Test
    void dopri5TrajectoryInterpolatesAtTheGridPoints() {
        Transport tr = transport("Linear", "velocity");
        Tensor traj = new OdeSampler(tr, OdeMethod.DOPRI5, 7, 1e-10, 1e-10, false, 3.0).trajectory(MODEL, init, ProgressListener.NONE);
        Tensor fine = new OdeSampler(tr, OdeMethod.RK4, 7, 0, 0, false, 3.0).run(MODEL, init,
                refine(TimeGrid.shift(TimeGrid.linspace(0, 1, 7), 3.0), 200), true, ProgressListener.NONE);
        assertEquals(7, traj.size(0));
        assertEquals(0.0, maxAbs(traj.select(0, 0).sub(init)));
        for (int i = 0; i < 7; i++) {
            double d = maxAbs(traj.select(0, i).sub(fine.select(0, i * 200)));
            assertTrue(d < 1e-7, "grid point " + i + ": " + d);
        }
    }

    /** The shifted grid keeps both ends and moves interior points towards the noise end for shift > 1. */
    @Test
    void timestepShift() {
        assertEquals(0.0, TimeGrid.shift(0.0, 3.0));
        assertEquals(1.0, TimeGrid.shift(1.0, 3.0));
        assertEquals(0.25, TimeGrid.shift(0.5, 3.0), 1e-15); // noise level 0.5 -> 0.75
        assertEquals(0.3, TimeGrid.shift(0.3, 1.0));
        double[] g = TimeGrid.shift(TimeGrid.linspace(0, 1, 5), 2.0);
        for (int i = 1; i < g.length - 1; i++) assertTrue(g[i] < i / 4.0);
    }

    /** Without diffusion the Euler SDE is the Euler ODE, also on a shifted grid (per-step dt there). */
    @Test
    void noiselessEulerSdeIsTheEulerOdeOnAShiftedGrid() {
        Transport tr = transport("Linear", "velocity");
        for (double shift : new double[] {1.0, 2.5}) {
            Tensor ode = new OdeSampler(tr, OdeMethod.EULER, 8, 0, 0, false, shift).sample(MODEL, init, ProgressListener.NONE);
            Tensor sde = new SdeSampler(tr, SdeMethod.EULER, DiffusionForm.CONSTANT, 0.0, LastStep.NONE, 0.04, 8, shift)
                    .sample(MODEL, init, io.udit.diffusion.NoiseSource.seeded(1), ProgressListener.NONE);
            assertTrue(maxAbs(ode.sub(sde)) <= 1e-12, "shift " + shift + ": " + maxAbs(ode.sub(sde)));
        }
    }

    /** Logit-normal timesteps: the logits of the draws (rescaled to [0, 1]) have the requested mean and std. */
    @Test
    void logitNormalTimesteps() {
        int n = 20000;
        double loc = 0.5, scale = 1.3;
        TimeInterval interval = new TimeInterval(1e-3, 1 - 1e-3);
        Tensor t = TimestepSampling.logitNormal(loc, scale).sample(n, interval, io.udit.diffusion.NoiseSource.generator(11),
                org.bytedeco.pytorch.global.torch.ScalarType.Double);
        double[] v = Tensors.toDoubles(t);
        double sum = 0, sq = 0;
        for (double x : v) {
            assertTrue(x > interval.t0() && x < interval.t1());
            double u = (x - interval.t0()) / (interval.t1() - interval.t0());
            double logit = Math.log(u / (1 - u));
            sum += logit;
            sq += logit * logit;
        }
        double mean = sum / n, std = Math.sqrt(sq / n - mean * mean);
        assertEquals(loc, mean, 4 * scale / Math.sqrt(n));
        assertEquals(scale, std, 4 * scale / Math.sqrt(2.0 * n));
        Tensor u = TimestepSampling.uniform().sample(n, interval, io.udit.diffusion.NoiseSource.generator(12),
                org.bytedeco.pytorch.global.torch.ScalarType.Float);
        assertTrue(u.min().item_double() >= interval.t0() && u.max().item_double() <= interval.t1());
        assertEquals(0.5, u.mean().item_double(), 0.01);
    }

    /** float32 in, float32 out: losses are (B) and finite, samplers keep shape and dtype. */
    @Test
    void float32Smoke() {
        org.bytedeco.pytorch.global.torch.ScalarType f32 = org.bytedeco.pytorch.global.torch.ScalarType.Float;
        Tensor x1f = x1.to(f32), x0f = x0.to(f32), tf = t4.to(f32), initf = init.to(f32);
        for (String path : List.of("Linear", "GVP", "VP")) {
            for (String pred : List.of("velocity", "noise", "score")) {
                Transport tr = Transport.create(FlowPath.parse(path), Prediction.parse(pred), LossWeight.LIKELIHOOD);
                Tensor loss = tr.trainingLosses(MODEL, x1f, tf, x0f).loss();
                assertArrayEquals(new long[] {4}, Tensors.shape(loss));
                assertTrue(Tensors.isType(loss, f32));
                assertTrue(org.bytedeco.pytorch.global.torch.isfinite(loss).all().item_bool(), path + "/" + pred);
            }
        }
        Transport tr = transport("Linear", "velocity");
        Tensor ode = new OdeSampler(tr, OdeMethod.HEUN2, 5, 1e-6, 1e-3, false, 1.0).sample(MODEL, initf, ProgressListener.NONE);
        Tensor sde = new SdeSampler(tr, SdeMethod.HEUN, DiffusionForm.SIGMA, 1.0, LastStep.MEAN, 0.04, 5, 1.0)
                .sample(MODEL, initf, io.udit.diffusion.NoiseSource.seeded(3), ProgressListener.NONE);
        for (Tensor s : List.of(ode, sde)) {
            assertArrayEquals(Tensors.shape(init), Tensors.shape(s));
            assertTrue(Tensors.isType(s, f32));
        }
    }

    /** Gradients reach the network through every loss form and agree with a central finite difference. */
    @Test
    void lossGradientsMatchFiniteDifferences() {
        for (String pred : List.of("velocity", "noise", "score")) {
            Transport tr = Transport.create(FlowPath.parse("VP"), Prediction.parse(pred), LossWeight.VELOCITY);
            double w0 = 0.7, h = 1e-6;
            Tensor w = Tensors.doubles(new double[] {w0}, 1).requires_grad_(true);
            tr.trainingLosses(scaled(w), x1, t4, x0).loss().sum().backward();
            double analytic = w.grad().item_double();
            double plus = lossAt(tr, w0 + h), minus = lossAt(tr, w0 - h);
            double numeric = (plus - minus) / (2 * h);
            assertEquals(numeric, analytic, 1e-6 * Math.max(1, Math.abs(numeric)), pred);
        }
    }

    /** The fixture model with its output scaled by a (trainable) weight w. */
    static FlowModel scaled(Tensor w) {
        return (x, t) -> MODEL.apply(x, t).mul(w);
    }

    static double lossAt(Transport tr, double w) {
        return tr.trainingLosses(scaled(Tensors.doubles(new double[] {w}, 1)), x1, t4, x0).loss().sum().item_double();
    }

    /** Training draws: x0 of x1's shape and dtype, t on the training interval, the same for the same seed. */
    @Test
    void trainingDraws() {
        Transport tr = transport("Linear", "noise");
        Transport.Draws a = tr.draw(x1, TimestepSampling.uniform(), io.udit.diffusion.NoiseSource.generator(21));
        Transport.Draws b = tr.draw(x1, TimestepSampling.uniform(), io.udit.diffusion.NoiseSource.generator(21));
        assertArrayEquals(Tensors.shape(x1), Tensors.shape(a.x0()));
        assertTrue(Tensors.isType(a.x0(), org.bytedeco.pytorch.global.torch.ScalarType.Double));
        assertTrue(a.x0().equal(b.x0()) && a.t().equal(b.t()));
        assertEquals(new TimeInterval(1e-3, 1 - 1e-3), tr.trainingInterval());
        assertTrue(a.t().min().item_double() >= 1e-3 && a.t().max().item_double() <= 1 - 1e-3);
        assertEquals(new TimeInterval(0, 1 - 1e-5), transport("VP", "velocity").trainingInterval());
    }

    /** A learned-variance network (2C channels) is cut to its first C channels, as SiT's forward does. */
    @Test
    void conditionalNetworkDropsTheVarianceHalf() {
        io.udit.diffusion.DenoiserFn net = (x, t, y) -> org.bytedeco.pytorch.global.torch.cat(
                new org.bytedeco.pytorch.TensorVector(x.mul(new Scalar(2.0)), x.mul(new Scalar(3.0))), 1);
        Tensor out = FlowModel.conditional(net, null).apply(init, Ts.times(init, 0.5));
        assertTrue(out.equal(init.mul(new Scalar(2.0))));
    }

    static double maxAbs(Tensor t) {
        return t.abs().max().item_double();
    }

    /** Each interval of a grid split into k equal parts. */
    static double[] refine(double[] grid, int k) {
        double[] out = new double[(grid.length - 1) * k + 1];
        for (int i = 0; i + 1 < grid.length; i++) {
            for (int j = 0; j < k; j++) out[i * k + j] = grid[i] + (grid[i + 1] - grid[i]) * j / k;
        }
        out[out.length - 1] = grid[grid.length - 1];
        return out;
    }
}
