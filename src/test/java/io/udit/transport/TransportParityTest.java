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
}
