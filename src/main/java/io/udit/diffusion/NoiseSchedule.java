package io.udit.diffusion;

import java.util.Arrays;
import java.util.function.DoubleUnaryOperator;

/**
 * The float64 tables of a discrete Gaussian diffusion process, computed from its betas exactly as improved-DDPM / DiT
 * compute them ({@code GaussianDiffusion.__init__}): cumulative products, square roots, the posterior
 * q(x_{t-1} | x_t, x_0) variance, its clipped log and the two posterior-mean coefficients.
 *
 * <p>Immutable; every accessor returns a copy.
 */
public final class NoiseSchedule {
    /** Improved-DDPM's maximum beta for schedules defined through alpha_bar. */
    public static final double MAX_BETA = 0.999;

    private final double[] betas;
    private final double[] alphasCumprod;
    private final double[] alphasCumprodPrev;
    private final double[] alphasCumprodNext;
    private final double[] sqrtAlphasCumprod;
    private final double[] sqrtOneMinusAlphasCumprod;
    private final double[] logOneMinusAlphasCumprod;
    private final double[] sqrtRecipAlphasCumprod;
    private final double[] sqrtRecipm1AlphasCumprod;
    private final double[] posteriorVariance;
    private final double[] posteriorLogVarianceClipped;
    private final double[] posteriorMeanCoef1;
    private final double[] posteriorMeanCoef2;
    private final double[] logBetas;

    private NoiseSchedule(double[] betasIn) {
        int n = betasIn.length;
        if (n < 1) throw new IllegalArgumentException("a schedule needs at least one beta");
        for (double b : betasIn) {
            if (!(b > 0 && b <= 1)) throw new IllegalArgumentException("betas must lie in (0, 1], got " + b);
        }
        betas = betasIn.clone();
        alphasCumprod = new double[n];
        alphasCumprodPrev = new double[n];
        alphasCumprodNext = new double[n];
        sqrtAlphasCumprod = new double[n];
        sqrtOneMinusAlphasCumprod = new double[n];
        logOneMinusAlphasCumprod = new double[n];
        sqrtRecipAlphasCumprod = new double[n];
        sqrtRecipm1AlphasCumprod = new double[n];
        posteriorVariance = new double[n];
        posteriorLogVarianceClipped = new double[n];
        posteriorMeanCoef1 = new double[n];
        posteriorMeanCoef2 = new double[n];
        logBetas = new double[n];

        double prod = 1.0;
        for (int i = 0; i < n; i++) {
            prod *= 1.0 - betas[i]; // np.cumprod(1 - betas): sequential products, same rounding
            alphasCumprod[i] = prod;
        }
        for (int i = 0; i < n; i++) {
            double ac = alphasCumprod[i];
            double acPrev = i == 0 ? 1.0 : alphasCumprod[i - 1];
            double alpha = 1.0 - betas[i];
            alphasCumprodPrev[i] = acPrev;
            alphasCumprodNext[i] = i == n - 1 ? 0.0 : alphasCumprod[i + 1];
            sqrtAlphasCumprod[i] = Math.sqrt(ac);
            sqrtOneMinusAlphasCumprod[i] = Math.sqrt(1.0 - ac);
            logOneMinusAlphasCumprod[i] = Math.log(1.0 - ac);
            sqrtRecipAlphasCumprod[i] = Math.sqrt(1.0 / ac);
            sqrtRecipm1AlphasCumprod[i] = Math.sqrt(1.0 / ac - 1);
            posteriorVariance[i] = betas[i] * (1.0 - acPrev) / (1.0 - ac);
            posteriorMeanCoef1[i] = betas[i] * Math.sqrt(acPrev) / (1.0 - ac);
            posteriorMeanCoef2[i] = (1.0 - acPrev) * Math.sqrt(alpha) / (1.0 - ac);
            logBetas[i] = Math.log(betas[i]);
        }
        // The posterior variance is 0 at t = 0: its log is clipped by repeating the value at t = 1.
        // (The reference leaves the table empty for a single-step process; we fall back to log(beta_0) there.)
        for (int i = 0; i < n; i++) {
            posteriorLogVarianceClipped[i] = n == 1 ? logBetas[0] : Math.log(posteriorVariance[i == 0 ? 1 : i]);
        }
    }

    /** A schedule from explicit betas (float64, each in (0, 1]). */
    public static NoiseSchedule fromBetas(double[] betas) {
        return new NoiseSchedule(betas);
    }

    /** {@code get_named_beta_schedule(name, steps)}: {@code "linear"} or {@code "cosine"} (alias "squaredcos_cap_v2"). */
    public static NoiseSchedule named(String name, int numTimesteps) {
        return fromBetas(namedBetas(name, numTimesteps));
    }

    public static double[] namedBetas(String name, int numTimesteps) {
        if (name != null && name.startsWith(SHIFTED_COSINE)) return shiftedCosineBetas(numTimesteps, shiftOf(name));
        return switch (name == null ? "" : name) {
            case "linear" -> linearBetas(numTimesteps);
            case "cosine", "squaredcos_cap_v2" -> cosineBetas(numTimesteps);
            default -> throw new IllegalArgumentException("unknown noise schedule: " + name + " (linear, cosine or "
                    + SHIFTED_COSINE + "K)");
        };
    }

    /** Prefix of the shifted cosine schedules' names: "cosine-shift4" multiplies the cosine schedule's SNR by 4. */
    public static final String SHIFTED_COSINE = "cosine-shift";

    /** Whether {@link #named} knows this schedule name. */
    public static boolean isKnown(String name) {
        try {
            namedBetas(name, 2);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static double shiftOf(String name) {
        String k = name.substring(SHIFTED_COSINE.length());
        double v;
        try {
            v = Double.parseDouble(k);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("unknown noise schedule: " + name + " (" + SHIFTED_COSINE + "K needs a number K)");
        }
        if (!(v >= 1e-4 && v <= 1e4) || !k.matches("[0-9.]+")) {
            throw new IllegalArgumentException("noise schedule " + name + ": the SNR factor K must be a plain number from 0.0001 to 10000");
        }
        return v;
    }

    /**
     * The cosine schedule with its signal-to-noise ratio multiplied by {@code k} at every t (log-SNR shifted by log k;
     * Hoogeboom et al. 2023, "simple diffusion", shift it by resolution): alpha_bar'(t) = k alpha_bar(t) /
     * (1 + (k - 1) alpha_bar(t)). K < 1 spends more of the training steps at high noise, where the class and layout of
     * an image are decided (the demo's 16x16 shapes learnt fastest with K = 0.25 of 0.25, 1, 4, 16).
     */
    public static double[] shiftedCosineBetas(int numTimesteps, double k) {
        return betasForAlphaBar(numTimesteps, t -> {
            double ab = cosineAlphaBar(t);
            return k * ab / (1 + (k - 1) * ab);
        }, MAX_BETA);
    }

    /**
     * Ho et al.'s linear schedule extended to any step count: scale = 1000 / T, betas = linspace(scale * 1e-4,
     * scale * 0.02, T) in float64, computed the way {@code np.linspace} does (start + i * step, last = stop).
     */
    public static double[] linearBetas(int numTimesteps) {
        if (numTimesteps < 1) throw new IllegalArgumentException("need at least one timestep");
        double scale = 1000.0 / numTimesteps;
        return linspace(scale * 0.0001, scale * 0.02, numTimesteps);
    }

    /** Improved DDPM's cosine schedule: alpha_bar(t) = cos((t + 0.008) / 1.008 * pi / 2)^2, betas capped at 0.999. */
    public static double[] cosineBetas(int numTimesteps) {
        return betasForAlphaBar(numTimesteps, NoiseSchedule::cosineAlphaBar, MAX_BETA);
    }

    private static double cosineAlphaBar(double t) {
        double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    /** beta_i = min(1 - alpha_bar((i + 1) / T) / alpha_bar(i / T), maxBeta). */
    public static double[] betasForAlphaBar(int numTimesteps, DoubleUnaryOperator alphaBar, double maxBeta) {
        if (numTimesteps < 1) throw new IllegalArgumentException("need at least one timestep");
        double[] out = new double[numTimesteps];
        for (int i = 0; i < numTimesteps; i++) {
            double t1 = (double) i / numTimesteps;
            double t2 = (double) (i + 1) / numTimesteps;
            out[i] = Math.min(1 - alphaBar.applyAsDouble(t2) / alphaBar.applyAsDouble(t1), maxBeta);
        }
        return out;
    }

    /** {@code np.linspace(start, stop, num)} with endpoint: start + i * ((stop - start) / (num - 1)), last = stop. */
    static double[] linspace(double start, double stop, int num) {
        double[] out = new double[num];
        if (num == 1) {
            out[0] = start;
            return out;
        }
        double step = (stop - start) / (num - 1);
        for (int i = 0; i < num; i++) out[i] = i * step + start;
        out[num - 1] = stop;
        return out;
    }

    public int numTimesteps() {
        return betas.length;
    }

    public double[] betas() { return betas.clone(); }
    public double[] logBetas() { return logBetas.clone(); }
    public double[] alphasCumprod() { return alphasCumprod.clone(); }
    public double[] alphasCumprodPrev() { return alphasCumprodPrev.clone(); }
    public double[] alphasCumprodNext() { return alphasCumprodNext.clone(); }
    public double[] sqrtAlphasCumprod() { return sqrtAlphasCumprod.clone(); }
    public double[] sqrtOneMinusAlphasCumprod() { return sqrtOneMinusAlphasCumprod.clone(); }
    public double[] logOneMinusAlphasCumprod() { return logOneMinusAlphasCumprod.clone(); }
    public double[] sqrtRecipAlphasCumprod() { return sqrtRecipAlphasCumprod.clone(); }
    public double[] sqrtRecipm1AlphasCumprod() { return sqrtRecipm1AlphasCumprod.clone(); }
    public double[] posteriorVariance() { return posteriorVariance.clone(); }
    public double[] posteriorLogVarianceClipped() { return posteriorLogVarianceClipped.clone(); }
    public double[] posteriorMeanCoef1() { return posteriorMeanCoef1.clone(); }
    public double[] posteriorMeanCoef2() { return posteriorMeanCoef2.clone(); }

    /** A table by its reference name (e.g. "posterior_log_variance_clipped"), for tests and tools. */
    public double[] table(String referenceName) {
        return switch (referenceName) {
            case "betas" -> betas();
            case "log_betas" -> logBetas();
            case "alphas_cumprod" -> alphasCumprod();
            case "alphas_cumprod_prev" -> alphasCumprodPrev();
            case "alphas_cumprod_next" -> alphasCumprodNext();
            case "sqrt_alphas_cumprod" -> sqrtAlphasCumprod();
            case "sqrt_one_minus_alphas_cumprod" -> sqrtOneMinusAlphasCumprod();
            case "log_one_minus_alphas_cumprod" -> logOneMinusAlphasCumprod();
            case "sqrt_recip_alphas_cumprod" -> sqrtRecipAlphasCumprod();
            case "sqrt_recipm1_alphas_cumprod" -> sqrtRecipm1AlphasCumprod();
            case "posterior_variance" -> posteriorVariance();
            case "posterior_log_variance_clipped" -> posteriorLogVarianceClipped();
            case "posterior_mean_coef1" -> posteriorMeanCoef1();
            case "posterior_mean_coef2" -> posteriorMeanCoef2();
            default -> throw new IllegalArgumentException("no table " + referenceName);
        };
    }

    // Package-private views without copying, for the hot paths in this package.
    double alphaCumprodAt(int i) { return alphasCumprod[i]; }
    double[] rawBetas() { return betas; }
    double[] rawAlphasCumprod() { return alphasCumprod; }
    double[] rawAlphasCumprodPrev() { return alphasCumprodPrev; }
    double[] rawSqrtAlphasCumprod() { return sqrtAlphasCumprod; }
    double[] rawSqrtOneMinusAlphasCumprod() { return sqrtOneMinusAlphasCumprod; }
    double[] rawSqrtRecipAlphasCumprod() { return sqrtRecipAlphasCumprod; }
    double[] rawSqrtRecipm1AlphasCumprod() { return sqrtRecipm1AlphasCumprod; }
    double[] rawPosteriorVariance() { return posteriorVariance; }
    double[] rawPosteriorLogVarianceClipped() { return posteriorLogVarianceClipped; }
    double[] rawPosteriorMeanCoef1() { return posteriorMeanCoef1; }
    double[] rawPosteriorMeanCoef2() { return posteriorMeanCoef2; }
    double[] rawLogBetas() { return logBetas; }

    @Override
    public String toString() {
        return "NoiseSchedule[T=" + betas.length + ", beta_0=" + betas[0] + ", beta_T-1=" + betas[betas.length - 1]
                + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NoiseSchedule s && Arrays.equals(betas, s.betas);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(betas);
    }
}
