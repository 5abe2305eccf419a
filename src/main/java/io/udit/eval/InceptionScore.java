package io.udit.eval;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Arrays;

/**
 * Inception Score, {@code exp(E_x KL(p(y|x) || p(y)))}, averaged over splits, in float64.
 *
 * <p>The ADM evaluator ({@code Evaluator.compute_inception_score}, after improved-gan) cuts the predictions into
 * consecutive chunks of {@value #ADM_SPLIT_SIZE} (the last one may be shorter): 10 splits for the usual 50,000
 * samples, 1 split below 5,000. Per split it computes {@code kl = p * (log p - log mean_x p)}, sums over classes,
 * averages over samples and exponentiates; the score is the mean over splits. {@link #compute(Tensor)} does exactly
 * that; {@link #computeWithSplits(Tensor, int)} cuts into a fixed number of near-equal splits instead (rows
 * {@code [i N / k, (i + 1) N / k)}, as improved-gan and torch-fidelity do). One deliberate difference: a probability
 * that is exactly 0 contributes 0 (the limit of p log p) where numpy would give NaN.
 */
public final class InceptionScore {
    private InceptionScore() {}

    /** ADM's split size. */
    public static final int ADM_SPLIT_SIZE = 5000;

    /** The mean over splits, their population standard deviation (like np.std) and each split's score. */
    public record Result(double mean, double std, double[] splits) {
        public int numSplits() {
            return splits.length;
        }
    }

    /** ADM's inception score: chunks of {@value #ADM_SPLIT_SIZE} predictions. {@code probs} is N x classes, rows summing to 1. */
    public static Result compute(Tensor probs) {
        return computeWithSplitSize(probs, ADM_SPLIT_SIZE);
    }

    /** Consecutive chunks of {@code splitSize} rows (the last may be shorter). */
    public static Result computeWithSplitSize(Tensor probs, int splitSize) {
        if (splitSize <= 0) throw new EvalException("split size must be positive, got " + splitSize);
        long n = check(probs);
        int k = (int) ((n + splitSize - 1) / splitSize);
        long[] bounds = new long[k + 1];
        for (int i = 0; i < k; i++) bounds[i] = (long) i * splitSize;
        bounds[k] = n;
        return score(probs, bounds);
    }

    /** {@code splits} near-equal splits: rows {@code [i N / splits, (i + 1) N / splits)}. */
    public static Result computeWithSplits(Tensor probs, int splits) {
        long n = check(probs);
        if (splits <= 0 || splits > n) throw new EvalException("need 1 to " + n + " splits for " + n + " samples, got " + splits);
        long[] bounds = new long[splits + 1];
        for (int i = 0; i <= splits; i++) bounds[i] = i * n / splits;
        return score(probs, bounds);
    }

    private static long check(Tensor probs) {
        Engine.init();
        long[] s = Tensors.shape(probs);
        if (s.length != 2 || s[1] < 2) {
            throw new EvalException("inception score needs an N x classes probability matrix, got shape " + Arrays.toString(s));
        }
        if (s[0] < 1) throw new EvalException("inception score needs at least 1 sample");
        if (!probs.is_floating_point()) throw new EvalException("probabilities must be floating point");
        return s[0];
    }

    private static Result score(Tensor probs, long[] bounds) {
        int k = bounds.length - 1;
        double[] scores = new double[k];
        try (PointerScope scope = new PointerScope()) {
            Tensor p = probs.to(ScalarType.Double);
            if (!torch.isfinite(p).all().item_bool() || p.min().item_double() < 0) {
                throw new EvalException("probabilities must be finite and non-negative");
            }
            for (int i = 0; i < k; i++) {
                Tensor part = p.narrow(0, bounds[i], bounds[i + 1] - bounds[i]);
                Tensor py = part.mean(new long[] {0}, true, new ScalarTypeOptional());
                // p * (log p - log py) with 0 * log 0 = 0: xlogy(p, p) - xlogy(p, py)
                Tensor kl = part.xlogy(part).sub(part.xlogy(py));
                double meanKl = kl.sum(new long[] {1}, false, new ScalarTypeOptional()).mean().item_double();
                scores[i] = Math.exp(meanKl);
            }
        }
        double mean = 0;
        for (double v : scores) mean += v;
        mean /= k;
        double var = 0;
        for (double v : scores) var += (v - mean) * (v - mean);
        return new Result(mean, Math.sqrt(var / k), scores);
    }
}
