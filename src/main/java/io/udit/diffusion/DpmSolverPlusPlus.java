package io.udit.diffusion;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * DPM-Solver++(2M) (Lu et al. 2022, multistep second order, data-prediction form) on the discrete-time schedule of
 * the original process: alpha_t = sqrt(alpha_bar_t), sigma_t = sqrt(1 - alpha_bar_t), lambda_t = log(alpha_t /
 * sigma_t), evaluated at integer original timesteps t_0 = T-1 > t_1 > ... > t_M = 0. With h_i = lambda_{t_i} -
 * lambda_{t_{i-1}} and x0_i the data prediction at t_i:
 * <pre>
 *   x_i = sigma_i / sigma_{i-1} x_{i-1} - alpha_i (e^{-h_i} - 1) D_i
 *   D_1 = x0_0,   D_i = (1 + 1/(2 r_i)) x0_{i-1} - 1/(2 r_i) x0_{i-2},   r_i = h_{i-1} / h_i
 * </pre>
 * The stochastic variant, SDE-DPM-Solver++(2M) (Lu et al. 2022, section 5; diffusers' "sde-dpmsolver++", k-diffusion's
 * dpmpp_2m_sde), uses the same D_i and injects fresh noise z_i each step:
 * <pre>
 *   x_i = sigma_i / sigma_{i-1} e^{-h_i} x_{i-1} + alpha_i (1 - e^{-2 h_i}) D_i + sigma_i sqrt(1 - e^{-2 h_i}) z_i
 * </pre>
 * Like DDPM's ancestral steps, the noise corrects errors of an imperfect network instead of carrying them along.
 * M model evaluations (plus one with {@code denoiseToZero}). Only the first C (epsilon) channels of a
 * learned-sigma model's output are used. The result is x at t = 0 (sigma_0 = 0.01 for the linear schedule), or the
 * model's x_0 prediction there with {@code denoiseToZero}.
 */
public final class DpmSolverPlusPlus implements Sampler {
    /** How the M+1 time points are chosen. */
    public enum Spacing {
        /** Uniform in the original timestep index (DPM-Solver's "time_uniform"), rounded to integers. */
        TIME_UNIFORM,
        /** Uniform in lambda (DPM-Solver's "logSNR"), each mapped to the nearest integer timestep. */
        LOG_SNR
    }

    private final NoiseSchedule schedule;
    private final int[] timesteps; // M + 1 original timesteps, descending, last = 0
    private final boolean clipDenoised;
    private final boolean denoiseToZero;
    private final boolean lowerOrderFinal;
    private final boolean stochastic;

    /**
     * @param schedule        the original (unrespaced) schedule the network was trained on
     * @param steps           M, the number of solver steps (= model evaluations)
     * @param spacing         how the time points are chosen
     * @param clipDenoised    clamp each x_0 prediction to [-1, 1] (off for latents)
     * @param denoiseToZero   finish with the model's x_0 prediction at t = 0 (one extra evaluation)
     * @param lowerOrderFinal first-order final step (recommended): on the discrete schedule the last interval is
     *                        long in lambda (t = 50 -> 0 at 20 time-uniform steps: h = 2.9 after h = 0.67), and the
     *                        second-order extrapolation with r = 0.23 there is less accurate on an exact Gaussian
     *                        denoiser than a first-order step
     */
    public DpmSolverPlusPlus(NoiseSchedule schedule, int steps, Spacing spacing, boolean clipDenoised,
                             boolean denoiseToZero, boolean lowerOrderFinal) {
        this(schedule, steps, spacing, clipDenoised, denoiseToZero, lowerOrderFinal, false);
    }

    /** As above; {@code stochastic} selects SDE-DPM-Solver++(2M), which draws one noise tensor per step. */
    public DpmSolverPlusPlus(NoiseSchedule schedule, int steps, Spacing spacing, boolean clipDenoised,
                             boolean denoiseToZero, boolean lowerOrderFinal, boolean stochastic) {
        if (steps < 1) throw new IllegalArgumentException("need at least one step");
        if (steps >= schedule.numTimesteps()) {
            throw new IllegalArgumentException("at most " + (schedule.numTimesteps() - 1) + " steps");
        }
        this.schedule = schedule;
        this.timesteps = spacing == Spacing.TIME_UNIFORM ? timeUniform(schedule, steps) : logSnrUniform(schedule, steps);
        this.clipDenoised = clipDenoised;
        this.denoiseToZero = denoiseToZero;
        this.lowerOrderFinal = lowerOrderFinal;
        this.stochastic = stochastic;
    }

    /** The usual configuration: time-uniform steps on the diffusion's base schedule, no clipping, first-order
     *  final step, result at t = 0 without an extra denoising evaluation. */
    public static DpmSolverPlusPlus of(GaussianDiffusion diffusion, int steps) {
        return new DpmSolverPlusPlus(diffusion.baseSchedule(), steps, Spacing.TIME_UNIFORM, false, false, true);
    }

    /** The original timesteps visited, descending, ending at 0 (M + 1 entries). */
    public int[] timesteps() {
        return timesteps.clone();
    }

    @Override
    public int modelEvaluations() {
        return timesteps.length - 1 + (denoiseToZero ? 1 : 0);
    }

    public double alpha(int t) {
        return Math.sqrt(schedule.alphaCumprodAt(t));
    }

    public double sigma(int t) {
        return Math.sqrt(1.0 - schedule.alphaCumprodAt(t));
    }

    /** lambda_t = log(alpha_t) - log(sigma_t) = 0.5 (log alpha_bar - log(1 - alpha_bar)). */
    public double lambda(int t) {
        double ac = schedule.alphaCumprodAt(t);
        return 0.5 * (Math.log(ac) - Math.log1p(-ac));
    }

    @Override
    public Tensor sample(DenoiserFn model, Tensor xT, Tensor y, NoiseSource noise, ProgressListener progress) {
        int m = timesteps.length - 1;
        int total = modelEvaluations();
        try (NoGradGuard guard = new NoGradGuard()) {
            Tensor x = xT.clone();
            Tensor x0Prev = torch.zeros_like(x); // data prediction at the previous time point, kept across steps
            double hPrev = Double.NaN;
            for (int i = 1; i <= m; i++) {
                int s = timesteps[i - 1];
                int t = timesteps[i];
                double h = lambda(t) - lambda(s);
                try (PointerScope scope = new PointerScope()) {
                    Tensor x0 = dataPrediction(model, x, s, y);
                    Tensor d;
                    boolean firstOrder = i == 1 || (lowerOrderFinal && i == m);
                    if (firstOrder) {
                        d = x0;
                    } else {
                        double r = hPrev / h;
                        d = x0.mul(new Scalar(1 + 1 / (2 * r))).sub(x0Prev.mul(new Scalar(1 / (2 * r))));
                    }
                    Tensor next;
                    if (stochastic) {
                        // x_t = sigma_t / sigma_s e^{-h} x_s + alpha_t (1 - e^{-2h}) D + sigma_t sqrt(1 - e^{-2h}) z
                        double decay = -Math.expm1(-2 * h);
                        next = x.mul(new Scalar(sigma(t) / sigma(s) * Math.exp(-h))).add(d.mul(new Scalar(alpha(t) * decay)))
                                .add(noise.next(x.sizes().vec().get()).mul(new Scalar(sigma(t) * Math.sqrt(decay))));
                    } else {
                        // x_t = sigma_t / sigma_s x_s - alpha_t (e^{-h} - 1) D
                        next = x.mul(new Scalar(sigma(t) / sigma(s))).sub(d.mul(new Scalar(alpha(t) * Math.expm1(-h))));
                    }
                    x.copy_(next);
                    if (i < m) x0Prev.copy_(x0);
                }
                hPrev = h;
                progress.onStep(i, total);
            }
            if (denoiseToZero) {
                try (PointerScope scope = new PointerScope()) {
                    x.copy_(dataPrediction(model, x, timesteps[m], y));
                }
                progress.onStep(total, total);
            }
            x0Prev.close();
            return x;
        }
    }

    /** x_0 = (x - sigma_t eps) / alpha_t from the first C output channels. */
    private Tensor dataPrediction(DenoiserFn model, Tensor x, int t, Tensor y) {
        Tensor out = model.apply(x, GaussianDiffusion.timesteps(x.size(0), t), y);
        long c = x.size(1);
        GaussianDiffusion.learnsSigma(out, x); // validates the channel count
        Tensor eps = out.narrow(1, 0, c);
        Tensor x0 = x.sub(eps.mul(new Scalar(sigma(t)))).mul(new Scalar(1.0 / alpha(t)));
        if (clipDenoised) x0 = x0.clamp(new ScalarOptional(new Scalar(-1.0)), new ScalarOptional(new Scalar(1.0)));
        return x0;
    }

    static int[] timeUniform(NoiseSchedule schedule, int steps) {
        int last = schedule.numTimesteps() - 1;
        double[] pts = NoiseSchedule.linspace(last, 0, steps + 1);
        int[] out = new int[steps + 1];
        for (int i = 0; i <= steps; i++) out[i] = (int) Math.rint(pts[i]);
        return dedupe(out);
    }

    static int[] logSnrUniform(NoiseSchedule schedule, int steps) {
        int n = schedule.numTimesteps();
        double[] lam = new double[n];
        for (int t = 0; t < n; t++) {
            double ac = schedule.alphaCumprodAt(t);
            lam[t] = 0.5 * (Math.log(ac) - Math.log1p(-ac));
        }
        double[] targets = NoiseSchedule.linspace(lam[n - 1], lam[0], steps + 1);
        int[] out = new int[steps + 1];
        for (int i = 0; i <= steps; i++) {
            int best = 0;
            for (int t = 1; t < n; t++) {
                if (Math.abs(lam[t] - targets[i]) < Math.abs(lam[best] - targets[i])) best = t;
            }
            out[i] = best;
        }
        out[0] = n - 1;
        out[steps] = 0;
        return dedupe(out);
    }

    private static int[] dedupe(int[] descending) {
        List<Integer> keep = new ArrayList<>();
        for (int t : descending) if (keep.isEmpty() || keep.get(keep.size() - 1) > t) keep.add(t);
        return keep.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public String toString() {
        return (stochastic ? "SdeDpmSolverPlusPlus" : "DpmSolverPlusPlus") + Arrays.toString(timesteps);
    }
}
