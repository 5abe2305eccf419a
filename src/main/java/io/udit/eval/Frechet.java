package io.udit.eval;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Gaussian feature statistics and the Fréchet distance between them, as FID / sFID use them.
 *
 * <p><b>Statistics</b> ({@link Stats#of}): the mean and the unbiased covariance of an N x D feature matrix, both in
 * float64, exactly what {@code np.mean(x, 0)} and {@code np.cov(x, rowvar=False)} give (divisor N - 1). They are
 * accumulated over row chunks (two passes: mean, then centred Gram matrix), so 50,000 x 2048 float32 features never
 * need a float64 copy.
 *
 * <p><b>Distance</b> ({@link #distance}): {@code ||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr(sqrtm(S1 S2))}, the formula
 * of the ADM evaluator ({@code FIDStatistics.frechet_distance}) and of pytorch-fid. Those compute
 * {@code scipy.linalg.sqrtm(S1 @ S2)} (a Schur decomposition of the non-symmetric product, in complex arithmetic)
 * and keep the real part of its trace. Only the trace is needed, and for symmetric positive semi-definite S1, S2 it
 * has a closed form through symmetric eigensolvers: with {@code S1 = V diag(w) V^T} and {@code H = S1^(1/2)}, the
 * products {@code S1 S2 = H (H S2)} and {@code H S2 H} share their eigenvalues (AB and BA have the same spectrum), the
 * latter is symmetric PSD, so the eigenvalues of S1 S2 are real and >= 0 and
 * {@code tr sqrtm(S1 S2) = sum_i sqrt(lambda_i(H S2 H))}. We compute {@code M = diag(sqrt w) (V^T S2 V) diag(sqrt w)}
 * (similar to H S2 H), symmetrise it, take {@code torch.linalg.eigvalsh} in float64, clamp the tiny negative
 * eigenvalues that rounding leaves (of covariances and of M) to 0, and sum the square roots. This agrees with scipy's
 * value to ~1e-8 relative on full-rank and on singular covariances (fewer samples than dimensions), where scipy
 * returns a finite matrix with small imaginary parts that ADM drops; see FrechetTest.
 *
 * <p><b>Fallback</b>: like ADM/pytorch-fid, if the product's square root comes out non-finite, {@value #EPS} * I is
 * added to both covariances and the trace is recomputed (a note says so). scipy hits this only for numerically
 * defective products; the eigen-route is finite for any finite PSD input, so in practice the fallback runs only when
 * LAPACK fails. {@link #distance(Stats, Stats, double)} applies the offset unconditionally (ADM's fallback branch).
 */
public final class Frechet {
    private Frechet() {}

    /** The diagonal offset ADM and pytorch-fid add when sqrtm fails. */
    public static final double EPS = 1e-6;

    /** Rows per chunk when accumulating statistics. */
    static final int CHUNK_ROWS = 4096;

    /**
     * Mean (length D) and covariance (D x D, row-major) in float64, from {@code count} samples ({@code count = 0} when
     * they were read precomputed from a file). {@code warnings} holds caveats (e.g. fewer samples than dimensions).
     */
    public record Stats(int dim, long count, double[] mu, double[] sigma, List<String> warnings) {
        public Stats {
            if (dim <= 0) throw new EvalException("feature dimension must be positive, got " + dim);
            if (mu.length != dim) throw new EvalException("mean has " + mu.length + " entries, expected " + dim);
            if ((long) dim * dim != sigma.length) {
                throw new EvalException("covariance has " + sigma.length + " entries, expected " + dim + " x " + dim);
            }
            warnings = List.copyOf(warnings);
        }

        /** Statistics of an N x D feature matrix (any floating dtype); N must be at least 2. */
        public static Stats of(Tensor features) {
            return of(features, "features");
        }

        /** As {@link #of(Tensor)}; {@code what} names the features in messages ("sample pool3 features"). */
        public static Stats of(Tensor features, String what) {
            Engine.init();
            long[] shape = Tensors.shape(features);
            if (shape.length != 2) {
                throw new EvalException(what + " must be a 2-D matrix (samples x dimensions), got shape " + Arrays.toString(shape));
            }
            long n = shape[0];
            long d = shape[1];
            if (d <= 0 || d > 65536) throw new EvalException(what + " have " + d + " dimensions; expected 1 to 65536");
            if (n < 2) {
                throw new EvalException("need at least 2 samples to estimate a covariance of " + what + ", got " + n
                        + (d > 1 ? " (and at least " + (d + 1) + " for a non-singular " + d + "-dimensional covariance)" : ""));
            }
            if (!features.is_floating_point()) {
                throw new EvalException(what + " must be floating point, got " + features.scalar_type().intern());
            }
            List<String> warnings = new ArrayList<>();
            if (n <= d) {
                warnings.add(what + ": only " + n + " samples for " + d + "-dimensional features, so the covariance is singular "
                        + "(rank <= " + (n - 1) + "); the Frechet distance is then strongly biased. Use more than " + d
                        + " samples (the ADM protocol uses 50,000 samples and a 10,000-image reference).");
            }
            double[] mu;
            double[] sigma;
            try (PointerScope scope = new PointerScope()) {
                Tensor sum = Tensors.zeros(ScalarType.Double, d);
                for (long r = 0; r < n; r += CHUNK_ROWS) {
                    try (PointerScope inner = new PointerScope()) {
                        Tensor x = features.narrow(0, r, Math.min(CHUNK_ROWS, n - r)).to(ScalarType.Double);
                        if (!torch.isfinite(x).all().item_bool()) {
                            throw new EvalException(what + " contain NaN or infinite values (rows " + r + " to "
                                    + (r + x.size(0) - 1) + ")");
                        }
                        sum.add_(x.sum(0));
                    }
                }
                Tensor mean = sum.div(new Scalar((double) n));
                Tensor gram = Tensors.zeros(ScalarType.Double, d, d);
                for (long r = 0; r < n; r += CHUNK_ROWS) {
                    try (PointerScope inner = new PointerScope()) {
                        Tensor xc = features.narrow(0, r, Math.min(CHUNK_ROWS, n - r)).to(ScalarType.Double).sub(mean);
                        gram.addmm_(xc.t(), xc);
                    }
                }
                Tensor cov = gram.div(new Scalar((double) (n - 1)));
                mu = Tensors.toDoubles(mean);
                sigma = Tensors.toDoubles(cov);
            }
            return new Stats((int) d, n, mu, sigma, warnings);
        }

        /** Precomputed statistics (e.g. an ADM reference batch's {@code mu} / {@code sigma}); checked for shape and finiteness. */
        public static Stats of(Tensor mu, Tensor sigma, String what) {
            Engine.init();
            long[] ms = Tensors.shape(mu);
            long[] ss = Tensors.shape(sigma);
            if (ms.length != 1) throw new EvalException(what + ": mean must be 1-D, got shape " + Arrays.toString(ms));
            if (ss.length != 2 || ss[0] != ms[0] || ss[1] != ms[0]) {
                throw new EvalException(what + ": covariance must be " + ms[0] + " x " + ms[0] + " to match the mean, got shape "
                        + Arrays.toString(ss));
            }
            if (!mu.is_floating_point() || !sigma.is_floating_point()) {
                throw new EvalException(what + ": mean and covariance must be floating point, got " + mu.scalar_type().intern()
                        + " and " + sigma.scalar_type().intern());
            }
            double[] m = Tensors.toDoubles(mu);
            double[] s = Tensors.toDoubles(sigma);
            for (double v : m) if (!Double.isFinite(v)) throw new EvalException(what + ": mean contains NaN or infinite values");
            for (double v : s) if (!Double.isFinite(v)) throw new EvalException(what + ": covariance contains NaN or infinite values");
            int d = (int) ms[0];
            double asym = 0;
            double scale = 0;
            for (int i = 0; i < d; i++) {
                scale = Math.max(scale, Math.abs(s[i * d + i]));
                for (int j = 0; j < i; j++) asym = Math.max(asym, Math.abs(s[i * d + j] - s[j * d + i]));
            }
            if (asym > 1e-6 * Math.max(scale, 1e-300)) {
                throw new EvalException(what + ": covariance is not symmetric (max |S - S^T| = " + asym + ")");
            }
            return new Stats(d, 0, m, s, List.of());
        }

        /** Mean as a 1-D float64 tensor (a fresh copy). */
        public Tensor muTensor() {
            return Tensors.doubles(mu, dim);
        }

        /** Covariance as a D x D float64 tensor (a fresh copy). */
        public Tensor sigmaTensor() {
            return Tensors.doubles(sigma, dim, dim);
        }
    }

    /**
     * A Fréchet distance. {@code traceSqrt} is {@code tr sqrtm(S1 S2)}; {@code offset} the diagonal offset used (0 unless
     * the fallback ran or was requested); {@code notes} carries the statistics' warnings and any fallback message.
     */
    public record Result(double value, double traceSqrt, double offset, List<String> notes) {
        public Result {
            notes = List.copyOf(notes);
        }

        public boolean offsetApplied() {
            return offset != 0;
        }
    }

    /** tr sqrtm(S1 S2) for two D x D float64 covariances; may return a non-finite value or throw on failure. */
    @FunctionalInterface
    interface TraceSqrt {
        double compute(Tensor s1, Tensor s2);
    }

    /** The Fréchet distance as ADM / pytorch-fid compute it, with the {@value #EPS} offset fallback. */
    public static Result distance(Stats a, Stats b) {
        return distance(a, b, Frechet::traceSqrtProduct);
    }

    /** The Fréchet distance with {@code offset * I} added to both covariances inside the square root (ADM's fallback branch). */
    public static Result distance(Stats a, Stats b, double offset) {
        if (!(offset >= 0) || Double.isInfinite(offset)) throw new EvalException("offset must be finite and >= 0, got " + offset);
        checkCompatible(a, b);
        List<String> notes = collectNotes(a, b);
        try (PointerScope scope = new PointerScope()) {
            double tr = traceWithOffset(a, b, offset, Frechet::traceSqrtProduct);
            if (!Double.isFinite(tr)) throw new EvalException("the Frechet distance is not finite even with offset " + offset);
            return new Result(combine(a, b, tr), tr, offset, notes);
        }
    }

    static Result distance(Stats a, Stats b, TraceSqrt primary) {
        checkCompatible(a, b);
        List<String> notes = collectNotes(a, b);
        try (PointerScope scope = new PointerScope()) {
            double tr;
            try {
                tr = traceWithOffset(a, b, 0, primary);
            } catch (RuntimeException e) {
                if (e instanceof EvalException) throw e;
                tr = Double.NaN;
                notes.add("the eigen-decomposition failed (" + e.getMessage() + ")");
            }
            double offset = 0;
            if (!Double.isFinite(tr)) {
                offset = EPS;
                notes.add("fid calculation produces singular product; adding " + EPS + " to diagonal of cov estimates");
                tr = traceWithOffset(a, b, offset, Frechet::traceSqrtProduct);
                if (!Double.isFinite(tr)) {
                    throw new EvalException("the Frechet distance is not finite even after adding " + EPS + " * I to the covariances");
                }
            }
            return new Result(combine(a, b, tr), tr, offset, notes);
        }
    }

    private static void checkCompatible(Stats a, Stats b) {
        if (a.dim() != b.dim()) {
            throw new EvalException("cannot compare " + a.dim() + "-dimensional statistics with " + b.dim() + "-dimensional ones");
        }
    }

    private static List<String> collectNotes(Stats a, Stats b) {
        List<String> notes = new ArrayList<>(a.warnings());
        for (String w : b.warnings()) if (!notes.contains(w)) notes.add(w);
        return notes;
    }

    private static double traceWithOffset(Stats a, Stats b, double offset, TraceSqrt f) {
        Tensor s1 = a.sigmaTensor();
        Tensor s2 = b.sigmaTensor();
        if (offset != 0) {
            Tensor eye = torch.eye(a.dim(), Tensors.options(ScalarType.Double)).mul(new Scalar(offset));
            s1 = s1.add(eye);
            s2 = s2.add(eye);
        }
        return f.compute(s1, s2);
    }

    /** ||mu1 - mu2||^2 + tr S1 + tr S2 - 2 trSqrt, summed in float64 in the reference's order. */
    private static double combine(Stats a, Stats b, double traceSqrt) {
        double diff = 0;
        for (int i = 0; i < a.dim(); i++) {
            double t = a.mu()[i] - b.mu()[i];
            diff += t * t;
        }
        double tr1 = 0;
        double tr2 = 0;
        for (int i = 0; i < a.dim(); i++) {
            tr1 += a.sigma()[i * a.dim() + i];
            tr2 += b.sigma()[i * b.dim() + i];
        }
        return diff + tr1 + tr2 - 2 * traceSqrt;
    }

    /**
     * tr sqrtm(S1 S2) for symmetric PSD S1, S2 (float64): eigen-decompose S1 = V diag(w) V^T, form
     * M = diag(sqrt w) V^T S2 V diag(sqrt w) (symmetric, similar to S1^(1/2) S2 S1^(1/2)), and sum the square roots
     * of its eigenvalues. Negative eigenvalues from rounding are clamped to 0.
     */
    static double traceSqrtProduct(Tensor s1, Tensor s2) {
        Engine.init();
        try (PointerScope scope = new PointerScope()) {
            Tensor a = symmetrize(s1);
            T_TensorTensor_T eig = torch.linalg_eigh(a);
            Tensor w = new Tensor(eig.get0());
            Tensor v = new Tensor(eig.get1());
            Reference.reachabilityFence(eig);
            Tensor root = w.clamp_min(new Scalar(0.0)).sqrt();
            Tensor inner = v.t().mm(symmetrize(s2)).mm(v);
            Tensor m = inner.mul(root.unsqueeze(1)).mul(root.unsqueeze(0));
            Tensor ev = torch.linalg_eigvalsh(symmetrize(m));
            return ev.clamp_min(new Scalar(0.0)).sqrt().sum().item_double();
        }
    }

    private static Tensor symmetrize(Tensor m) {
        return m.add(m.t()).mul(new Scalar(0.5));
    }
}
