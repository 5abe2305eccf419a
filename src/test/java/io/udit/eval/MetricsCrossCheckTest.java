package io.udit.eval;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static io.udit.eval.Fixtures.list;
import static io.udit.eval.Fixtures.num;
import static io.udit.eval.Fixtures.obj;
import static io.udit.eval.Fixtures.rel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fréchet distance, inception score and precision/recall against numpy/scipy computations of the same formulas on
 * fixed feature sets (resources/io/udit/eval/metrics, made by make_metric_fixtures.py; see its docstring).
 */
class MetricsCrossCheckTest {
    static Map<String, Object> expected;
    static final double TOL = 1e-6;

    @BeforeAll
    static void init() {
        Engine.init();
        expected = Fixtures.json("metrics/expected.json");
    }

    static Frechet.Stats stats(String name) {
        return Frechet.Stats.of(Fixtures.npy("metrics/" + name + ".npy"), name);
    }

    @Test
    void statisticsMatchNumpyMeanAndCov() {
        Frechet.Stats s = stats("fid_a");
        assertEquals(300, s.count());
        double[] mu = Tensors.toDoubles(Fixtures.npy("metrics/fid_a_mu.npy"));
        double[] sigma = Tensors.toDoubles(Fixtures.npy("metrics/fid_a_sigma.npy"));
        assertTrue(maxRel(s.mu(), mu) < 1e-12, "mean rel error " + maxRel(s.mu(), mu));
        assertTrue(maxRel(s.sigma(), sigma) < 1e-12, "covariance rel error " + maxRel(s.sigma(), sigma));
        assertTrue(s.warnings().isEmpty(), s.warnings().toString());
    }

    @Test
    void statisticsAreAccumulatedCorrectlyOverChunks() {
        Generator g = torch.make_generator_cpu(7);
        Tensor x = torch.randn(new long[] {Frechet.CHUNK_ROWS * 2 + 123, 6}, new GeneratorOptional(g),
                Tensors.options(ScalarType.Float)).mul(Tensors.scalar(3.0)).add(Tensors.scalar(100.0));
        Frechet.Stats s = Frechet.Stats.of(x);
        Tensor xd = x.to(ScalarType.Double);
        Tensor mean = xd.mean(0);
        Tensor xc = xd.sub(mean);
        Tensor cov = xc.t().mm(xc).div(Tensors.scalar(x.size(0) - 1.0));
        assertTrue(maxRel(s.mu(), Tensors.toDoubles(mean)) < 1e-12);
        assertTrue(maxRel(s.sigma(), Tensors.toDoubles(cov)) < 1e-10, "rel " + maxRel(s.sigma(), Tensors.toDoubles(cov)));
    }

    @Test
    void frechetDistanceMatchesScipyOnFullRankCovariances() {
        Frechet.Result r = Frechet.distance(stats("fid_a"), stats("fid_b"));
        Map<String, Object> e = obj(obj(expected, "frechet"), "full");
        assertFalse((Boolean) e.get("scipy_fell_back"));
        assertFalse(r.offsetApplied());
        assertTrue(rel(r.value(), num(e, "value")) < TOL, r.value() + " vs scipy " + num(e, "value"));
        assertTrue(rel(r.traceSqrt(), num(e, "trace_sqrt")) < TOL);
        System.out.printf("FID cross-check full rank: java %.15g scipy %.15g rel %.2e%n", r.value(), num(e, "value"),
                rel(r.value(), num(e, "value")));
    }

    @Test
    void frechetDistanceMatchesScipyOnSingularCovariances() {
        // 30 and 40 samples of 48-dimensional features: both covariances are singular; scipy's sqrtm still returns a
        // finite matrix (tiny imaginary parts dropped), so ADM applies no offset, and neither do we.
        Frechet.Stats a = stats("fid_small_a");
        Frechet.Stats b = stats("fid_small_b");
        assertEquals(1, a.warnings().size());
        assertTrue(a.warnings().get(0).contains("only 30 samples for 48-dimensional"), a.warnings().get(0));
        Frechet.Result r = Frechet.distance(a, b);
        Map<String, Object> e = obj(obj(expected, "frechet"), "singular");
        assertFalse((Boolean) e.get("scipy_fell_back"));
        assertFalse(r.offsetApplied());
        assertTrue(rel(r.value(), num(e, "value")) < TOL, r.value() + " vs scipy " + num(e, "value"));
        assertEquals(2, r.notes().size(), r.notes().toString());
        System.out.printf("FID cross-check singular: java %.15g scipy %.15g rel %.2e%n", r.value(), num(e, "value"),
                rel(r.value(), num(e, "value")));

        Frechet.Result m = Frechet.distance(stats("fid_a"), b);
        assertTrue(rel(m.value(), num(obj(obj(expected, "frechet"), "full_vs_singular"), "value")) < TOL);
    }

    @Test
    void offsetBranchMatchesScipyOffsetBranch() {
        Frechet.Stats a = stats("fid_small_a");
        Frechet.Stats b = stats("fid_small_b");
        Map<String, Object> e = obj(obj(expected, "frechet"), "singular_offset");
        Frechet.Result forced = Frechet.distance(a, b, Frechet.EPS);
        assertTrue(forced.offsetApplied());
        assertTrue(rel(forced.value(), num(e, "value")) < TOL, forced.value() + " vs scipy " + num(e, "value"));
        assertTrue(rel(forced.traceSqrt(), num(e, "trace_sqrt")) < TOL);
        // the two branches differ by far more than the tolerance, so this checks the offset really is applied
        assertTrue(rel(num(e, "value"), num(obj(obj(expected, "frechet"), "singular"), "value")) > 100 * TOL);
    }

    @Test
    void nonFiniteProductFallsBackToTheOffset() {
        Frechet.Stats a = stats("fid_small_a");
        Frechet.Stats b = stats("fid_small_b");
        Frechet.Result r = Frechet.distance(a, b, (s1, s2) -> Double.NaN);
        assertTrue(r.offsetApplied());
        assertEquals(Frechet.EPS, r.offset());
        assertTrue(r.notes().stream().anyMatch(n -> n.contains("singular product")), r.notes().toString());
        assertTrue(rel(r.value(), num(obj(obj(expected, "frechet"), "singular_offset"), "value")) < TOL);
        Frechet.Result thrown = Frechet.distance(a, b, (s1, s2) -> {
            throw new RuntimeException("LAPACK did not converge");
        });
        assertTrue(thrown.offsetApplied());
        assertTrue(thrown.notes().stream().anyMatch(n -> n.contains("LAPACK did not converge")));
    }

    @Test
    void distanceToItselfIsZeroAndPrecomputedStatsWork() {
        Frechet.Stats a = stats("fid_a");
        assertEquals(0.0, Frechet.distance(a, a).value(), 1e-9);
        Frechet.Stats pre = Frechet.Stats.of(Fixtures.npy("metrics/fid_a_mu.npy"), Fixtures.npy("metrics/fid_a_sigma.npy"), "ref");
        Frechet.Result r = Frechet.distance(pre, stats("fid_b"));
        assertTrue(rel(r.value(), num(obj(obj(expected, "frechet"), "full"), "value")) < TOL);
    }

    @Test
    void tooFewSamplesOrMismatchedStatisticsAreClearErrors() {
        Tensor one = Tensors.zeros(ScalarType.Float, 1, 16);
        EvalException e = assertThrows(EvalException.class, () -> Frechet.Stats.of(one, "sample features"));
        assertTrue(e.getMessage().contains("at least 2 samples") && e.getMessage().contains("got 1")
                && e.getMessage().contains("at least 17"), e.getMessage());
        assertThrows(EvalException.class, () -> Frechet.Stats.of(Tensors.zeros(ScalarType.Float, 10)));
        Tensor nan = Tensors.zeros(ScalarType.Float, 5, 3);
        nan.fill_(Tensors.scalar(Double.NaN));
        assertTrue(assertThrows(EvalException.class, () -> Frechet.Stats.of(nan)).getMessage().contains("NaN"));
        Frechet.Stats a = stats("fid_a");
        Frechet.Stats small = Frechet.Stats.of(Tensors.zeros(ScalarType.Float, 4, 3));
        assertTrue(assertThrows(EvalException.class, () -> Frechet.distance(a, small)).getMessage().contains("48-dimensional"));
        assertThrows(EvalException.class, () -> Frechet.Stats.of(Tensors.zeros(ScalarType.Double, 3),
                Tensors.zeros(ScalarType.Double, 3, 4), "ref"));
    }

    @Test
    void inceptionScoreMatchesNumpy() {
        Tensor p = Fixtures.npy("metrics/is_probs.npy");
        Map<String, Object> e = obj(expected, "inception_score");
        check(InceptionScore.compute(p), list(e, "adm_split_5000"));
        check(InceptionScore.computeWithSplitSize(p, 500), list(e, "split_size_500"));
        check(InceptionScore.computeWithSplits(p, 10), list(e, "splits_10"));
    }

    @Test
    void inceptionScoreTreatsZeroProbabilitiesAsTheirLimit() {
        // one-hot predictions spread evenly over 4 classes: p(y) uniform, KL = log 4, IS = 4 exactly
        float[] v = new float[40 * 4];
        for (int i = 0; i < 40; i++) v[i * 4 + (i % 4)] = 1f;
        InceptionScore.Result r = InceptionScore.compute(Tensors.floats(v, 40, 4));
        assertEquals(4.0, r.mean(), 1e-12);
        assertThrows(EvalException.class, () -> InceptionScore.computeWithSplits(Tensors.floats(v, 40, 4), 41));
    }

    private static void check(InceptionScore.Result r, List<Object> e) {
        assertTrue(rel(r.mean(), ((Number) e.get(0)).doubleValue()) < TOL, r.mean() + " vs " + e.get(0));
        assertEquals(((Number) e.get(1)).doubleValue(), r.std(), 1e-6 * r.mean());
        @SuppressWarnings("unchecked") List<Object> splits = (List<Object>) e.get(2);
        assertEquals(splits.size(), r.numSplits());
        for (int i = 0; i < splits.size(); i++) assertTrue(rel(r.splits()[i], ((Number) splits.get(i)).doubleValue()) < TOL);
    }

    @Test
    void precisionRecallMatchesNumpyExactlyOnQuantisedFeatures() {
        Tensor ref = Fixtures.npy("metrics/pr_q_ref.npy");
        Tensor smp = Fixtures.npy("metrics/pr_q_smp.npy");
        Map<String, Object> e = obj(obj(expected, "precision_recall"), "quantized");
        for (PrecisionRecall.Precision prec : PrecisionRecall.Precision.values()) {
            for (long block : new long[] {PrecisionRecall.Options.ADM.blockBytes(), 4096}) {
                PrecisionRecall.Options o = PrecisionRecall.Options.ADM.withPrecision(prec).withBlockBytes(block);
                PrecisionRecall.Result r = PrecisionRecall.compute(ref, smp, o);
                assertEquals(num(e, "precision"), r.precision(), 1e-15, prec + " block " + block);
                assertEquals(num(e, "recall"), r.recall(), 1e-15, prec + " block " + block);
                double[] radii = Tensors.toDoubles(PrecisionRecall.radii(ref, o));
                assertArrayEquals(Tensors.toDoubles(Fixtures.npy("metrics/pr_q_ref_radii.npy")), radii, 0.0);
            }
        }
    }

    @Test
    void precisionRecallMatchesNumpyOnGaussianFeatures() {
        Tensor ref = Fixtures.npy("metrics/pr_g_ref.npy");
        Tensor smp = Fixtures.npy("metrics/pr_g_smp.npy");
        Map<String, Object> e = obj(obj(expected, "precision_recall"), "gaussian");
        PrecisionRecall.Result r64 = PrecisionRecall.compute(ref, smp,
                PrecisionRecall.Options.ADM.withPrecision(PrecisionRecall.Precision.FLOAT64).withBlockBytes(10_000));
        assertEquals(num(e, "precision"), r64.precision(), 1e-15);
        assertEquals(num(e, "recall"), r64.recall(), 1e-15);
        // float32 distances may flip a point that sits within rounding error of a radius; none does here, and at most
        // one point per set could
        PrecisionRecall.Result r32 = PrecisionRecall.compute(ref, smp);
        assertEquals(num(e, "precision"), r32.precision(), 1.0 / 450 + 1e-12);
        assertEquals(num(e, "recall"), r32.recall(), 1.0 / 500 + 1e-12);
        System.out.printf("precision/recall float32: %.6f %.6f float64: %.6f %.6f numpy: %.6f %.6f%n", r32.precision(),
                r32.recall(), r64.precision(), r64.recall(), num(e, "precision"), num(e, "recall"));
    }

    @Test
    void precisionRecallNeedsMoreThanKPoints() {
        Tensor three = Tensors.zeros(ScalarType.Float, 3, 8);
        Tensor many = Tensors.zeros(ScalarType.Float, 10, 8);
        EvalException e = assertThrows(EvalException.class, () -> PrecisionRecall.compute(three, many));
        assertTrue(e.getMessage().contains("at least 4") && e.getMessage().contains("got 3"), e.getMessage());
        assertThrows(EvalException.class, () -> PrecisionRecall.compute(many, Tensors.zeros(ScalarType.Float, 10, 9)));
    }

    static double maxRel(double[] a, double[] b) {
        assertEquals(b.length, a.length);
        double scale = 0;
        double err = 0;
        for (int i = 0; i < a.length; i++) {
            scale = Math.max(scale, Math.abs(b[i]));
            err = Math.max(err, Math.abs(a[i] - b[i]));
        }
        return err / scale;
    }
}
