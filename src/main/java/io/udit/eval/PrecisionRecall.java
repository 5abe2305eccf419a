package io.udit.eval;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.lang.ref.Reference;
import java.util.Arrays;

/**
 * Improved precision and recall (Kynkäänniemi et al. 2019) as the ADM evaluator's {@code ManifoldEstimator} computes
 * them, with neighbourhood size k = 3 by default.
 *
 * <ul>
 *   <li>Distances are squared Euclidean, {@code max(|u|^2 - 2 u.v + |v|^2, 0)}, like ADM's
 *       {@code _batch_pairwise_distances}, computed block by block so memory stays bounded.</li>
 *   <li>The radius of a point is the (k+1)-th smallest squared distance from it to every point of its own set, itself
 *       included (ADM: {@code np.partition(row, k)[k]}), i.e. the distance to its k-th nearest other point.</li>
 *   <li>precision = share of samples within the radius of at least one reference point ({@code d <= r}); recall = share
 *       of reference points within the radius of at least one sample.</li>
 * </ul>
 *
 * <p>Arithmetic: ADM first evaluates the distance block in <b>float16</b> and only falls back to float32 when that
 * overflows; we use {@link Precision#FLOAT32} by default (what the fp16 branch is an approximation of, and what ADM
 * falls back to) or {@link Precision#FLOAT64}. The choice only changes points whose distance lies within rounding
 * error of a radius; ADM's fp16 rounding therefore makes its figures differ from these by a small share of points.
 */
public final class PrecisionRecall {
    private PrecisionRecall() {}

    public enum Precision {
        FLOAT32(ScalarType.Float, 4), FLOAT64(ScalarType.Double, 8);

        final ScalarType type;
        final int bytes;

        Precision(ScalarType type, int bytes) {
            this.type = type;
            this.bytes = bytes;
        }
    }

    /** k (ADM: 3), arithmetic, and the largest distance block in bytes (ADM uses 10,000 x 10,000 blocks). */
    public record Options(int k, Precision precision, long blockBytes) {
        public static final Options ADM = new Options(3, Precision.FLOAT32, 256L << 20);

        public Options {
            if (k < 1) throw new EvalException("neighbourhood size k must be at least 1, got " + k);
            if (blockBytes < 1024) throw new EvalException("distance block must be at least 1 KiB, got " + blockBytes);
        }

        public Options withPrecision(Precision p) {
            return new Options(k, p, blockBytes);
        }

        public Options withBlockBytes(long bytes) {
            return new Options(k, precision, bytes);
        }
    }

    public record Result(double precision, double recall, int k, long numReference, long numSamples) {}

    /** ADM's precision and recall (k = 3, float32 distances). */
    public static Result compute(Tensor reference, Tensor samples) {
        return compute(reference, samples, Options.ADM);
    }

    public static Result compute(Tensor reference, Tensor samples, Options o) {
        Engine.init();
        long[] rs = check(reference, "reference features", o.k());
        long[] ss = check(samples, "sample features", o.k());
        if (rs[1] != ss[1]) {
            throw new EvalException("reference features are " + rs[1] + "-dimensional but sample features are " + ss[1] + "-dimensional");
        }
        try (PointerScope scope = new PointerScope()) {
            Tensor ref = reference.to(o.precision().type).contiguous();
            Tensor smp = samples.to(o.precision().type).contiguous();
            Tensor refRadii = radiiOf(ref, o);
            Tensor smpRadii = radiiOf(smp, o);
            long nRef = rs[0];
            long nSmp = ss[0];
            boolean[] refIn = new boolean[(int) nRef];
            boolean[] smpIn = new boolean[(int) nSmp];
            long side = Math.max(1, (long) Math.sqrt((double) o.blockBytes() / o.precision().bytes));
            for (long r0 = 0; r0 < nRef; r0 += side) {
                long br = Math.min(side, nRef - r0);
                for (long c0 = 0; c0 < nSmp; c0 += side) {
                    long bc = Math.min(side, nSmp - c0);
                    try (PointerScope inner = new PointerScope()) {
                        Tensor d = squaredDistances(ref.narrow(0, r0, br), smp.narrow(0, c0, bc));
                        // reference point i is covered by sample j when d[i, j] <= radius of sample j (recall)
                        long[] ri = Tensors.toLongs(d.le(smpRadii.narrow(0, c0, bc).unsqueeze(0)).any(1));
                        // sample j is covered by reference point i when d[i, j] <= radius of reference i (precision)
                        long[] ci = Tensors.toLongs(d.le(refRadii.narrow(0, r0, br).unsqueeze(1)).any(0));
                        for (int i = 0; i < ri.length; i++) if (ri[i] != 0) refIn[(int) r0 + i] = true;
                        for (int j = 0; j < ci.length; j++) if (ci[j] != 0) smpIn[(int) c0 + j] = true;
                    }
                }
            }
            return new Result(share(smpIn), share(refIn), o.k(), nRef, nSmp);
        }
    }

    /**
     * Each point's manifold radius: the squared distance to its k-th nearest other point (the (k+1)-th smallest distance
     * to its own set, itself included), as ADM's {@code manifold_radii}. Returns a 1-D tensor in the options' dtype.
     */
    public static Tensor radii(Tensor features, Options o) {
        Engine.init();
        check(features, "features", o.k());
        return radiiOf(features.to(o.precision().type).contiguous(), o);
    }

    private static Tensor radiiOf(Tensor x, Options o) {
        long n = x.size(0);
        long rows = Math.max(1, Math.min(n, o.blockBytes() / (n * o.precision().bytes)));
        Tensor out = Tensors.empty(o.precision().type, n);
        for (long r0 = 0; r0 < n; r0 += rows) {
            long b = Math.min(rows, n - r0);
            try (PointerScope inner = new PointerScope()) {
                Tensor d = squaredDistances(x.narrow(0, r0, b), x);
                T_TensorTensor_T kth = d.kthvalue(o.k() + 1, 1, false);
                Tensor values = new Tensor(kth.get0());
                Reference.reachabilityFence(kth);
                out.narrow(0, r0, b).copy_(values);
            }
        }
        return out;
    }

    /** max(|u|^2 - 2 u v^T + |v|^2, 0), in the inputs' dtype, evaluated in ADM's order. */
    static Tensor squaredDistances(Tensor u, Tensor v) {
        Tensor nu = u.mul(u).sum(new long[] {1}, true, new ScalarTypeOptional());
        Tensor nv = v.mul(v).sum(new long[] {1}, true, new ScalarTypeOptional()).t();
        return nu.sub(u.mm(v.t()).mul(new Scalar(2.0))).add(nv).clamp_min(new Scalar(0.0));
    }

    private static long[] check(Tensor t, String what, int k) {
        long[] s = Tensors.shape(t);
        if (s.length != 2) throw new EvalException(what + " must be a 2-D matrix (samples x dimensions), got shape " + Arrays.toString(s));
        if (s[0] < k + 1) {
            throw new EvalException("precision/recall with k = " + k + " needs at least " + (k + 1) + " " + what.replace(" features", "")
                    + " points, got " + s[0]);
        }
        if (s[0] > Integer.MAX_VALUE - 8) throw new EvalException("too many " + what + ": " + s[0]);
        if (!t.is_floating_point()) throw new EvalException(what + " must be floating point, got " + t.scalar_type().intern());
        return s;
    }

    private static double share(boolean[] in) {
        long c = 0;
        for (boolean b : in) if (b) c++;
        return (double) c / in.length;
    }
}
