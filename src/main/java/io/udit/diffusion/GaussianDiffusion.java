package io.udit.diffusion;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Arrays;

/**
 * The DiT / improved-DDPM Gaussian diffusion ({@code gaussian_diffusion.py} + {@code respace.py}) with epsilon
 * prediction, on a possibly respaced set of timesteps.
 *
 * <p>Timesteps {@code t} passed to this class index its own (respaced) schedule; the network is always called with
 * the original timestep {@code timestepMap[t]} (the reference's {@code _WrappedModel}). The variance follows the model
 * output: 2C channels means learned-range variance ({@code frac = (v + 1) / 2} between the clipped posterior log
 * variance and log beta), C channels means a fixed variance ({@link FixedVariance}).
 *
 * <p>Per-timestep coefficients are gathered from the float64 tables and cast to float32 before the tensor op, like
 * the reference's {@code _extract_into_tensor}; all tensor arithmetic goes through libtorch, so autograd flows from
 * {@link #trainingLosses} to the model output.
 */
public final class GaussianDiffusion {
    /** Variance used when the model predicts no variance channels: beta_t (LARGE, with t = 0 as the posterior
     *  variance at t = 1) or the posterior variance (SMALL). */
    public enum FixedVariance { LARGE, SMALL }

    /** The reference loss types; DiT's {@code create_diffusion} uses MSE (MSE + VLB term when learning sigma). */
    public enum LossType { MSE, RESCALED_MSE, KL, RESCALED_KL }

    /** {@code create_diffusion} options other than the respacing; {@link #dit()} gives DiT's defaults. */
    public record Options(String noiseSchedule, int diffusionSteps, boolean sigmaSmall, boolean useKl,
                          boolean rescaleLearnedSigmas) {
        public static Options dit() {
            return new Options("linear", 1000, false, false, false);
        }

        public LossType lossType() {
            return useKl ? LossType.RESCALED_KL : rescaleLearnedSigmas ? LossType.RESCALED_MSE : LossType.MSE;
        }

        public FixedVariance fixedVariance() {
            return sigmaSmall ? FixedVariance.SMALL : FixedVariance.LARGE;
        }
    }

    /** A diagonal Gaussian: q(x_t | x_0), or q(x_{t-1} | x_t, x_0) with its clipped log variance. */
    public record Gaussian(Tensor mean, Tensor variance, Tensor logVariance) {}

    /** p(x_{t-1} | x_t) and the model's x_0 prediction. */
    public record MeanVariance(Tensor mean, Tensor variance, Tensor logVariance, Tensor predXstart) {}

    /** One sampling step's result. */
    public record Step(Tensor sample, Tensor predXstart) {}

    /** Per-sample training terms, shape [N]. {@code vb} is null when the model predicts no variance; {@code mse} is
     *  null for the KL loss types (whose {@code loss} is the VLB term itself). */
    public record Losses(Tensor loss, Tensor mse, Tensor vb) {}

    private static final double LN2 = Math.log(2.0);

    private final NoiseSchedule base;
    private final NoiseSchedule schedule;
    private final int[] timestepMap;
    private final FixedVariance fixedVariance;
    private final LossType lossType;

    /** A process on the kept steps of {@code base} ({@code spec} as in {@link Respacing#spaceTimesteps}). */
    public GaussianDiffusion(NoiseSchedule base, String respacing, FixedVariance fixedVariance, LossType lossType) {
        this.base = base;
        Respacing.Spaced spaced = Respacing.respace(base, respacing);
        this.schedule = spaced.schedule();
        this.timestepMap = spaced.timestepMap();
        this.fixedVariance = fixedVariance;
        this.lossType = lossType;
    }

    /** {@code create_diffusion(timestep_respacing)} with DiT's defaults (linear, 1000 steps, MSE loss). */
    public static GaussianDiffusion create(String timestepRespacing) {
        return create(timestepRespacing, Options.dit());
    }

    /** {@code create_diffusion(timestep_respacing, ...)}; null or "" keeps all steps (betas still recomputed from
     *  alphas_cumprod, as the reference's SpacedDiffusion does). */
    public static GaussianDiffusion create(String timestepRespacing, Options options) {
        NoiseSchedule base = NoiseSchedule.named(options.noiseSchedule(), options.diffusionSteps());
        return new GaussianDiffusion(base, timestepRespacing, options.fixedVariance(), options.lossType());
    }

    /** The same process respaced differently (always from the original base schedule). */
    public GaussianDiffusion respaced(String respacing) {
        return new GaussianDiffusion(base, respacing, fixedVariance, lossType);
    }

    public NoiseSchedule schedule() { return schedule; }
    public NoiseSchedule baseSchedule() { return base; }
    public int numTimesteps() { return schedule.numTimesteps(); }
    public int[] timestepMap() { return timestepMap.clone(); }
    public FixedVariance fixedVariance() { return fixedVariance; }
    public LossType lossType() { return lossType; }

    /** The original timesteps for a batch of indices into this process (int64, same device). */
    public Tensor mapTimesteps(Tensor t) {
        long[] idx = Tensors.toLongs(t);
        long[] out = new long[idx.length];
        for (int i = 0; i < idx.length; i++) out[i] = timestepMap[checkIndex(idx[i])];
        return Tensors.longs(out, Tensors.shape(t)).to(t.device(), ScalarType.Long);
    }

    /** A batch of N copies of timestep index {@code i} (int64). */
    public static Tensor timesteps(long n, long i) {
        Engine.init();
        return torch.full(new long[] {n}, new Scalar(i), new TensorOptions(ScalarType.Long));
    }

    // ------------------------------------------------------------------ forward process

    /** x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) noise. */
    public Tensor qSample(Tensor xStart, Tensor t, Tensor noise) {
        requireSameShape(xStart, noise, "noise");
        return extract(schedule.rawSqrtAlphasCumprod(), t, xStart).mul(xStart)
                .add(extract(schedule.rawSqrtOneMinusAlphasCumprod(), t, xStart).mul(noise));
    }

    /** q(x_{t-1} | x_t, x_0): mean, variance and clipped log variance. */
    public Gaussian qPosteriorMeanVariance(Tensor xStart, Tensor xT, Tensor t) {
        requireSameShape(xT, xStart, "x_start");
        Tensor mean = extract(schedule.rawPosteriorMeanCoef1(), t, xT).mul(xStart)
                .add(extract(schedule.rawPosteriorMeanCoef2(), t, xT).mul(xT));
        Tensor variance = full(extract(schedule.rawPosteriorVariance(), t, xT), xT);
        Tensor logVariance = full(extract(schedule.rawPosteriorLogVarianceClipped(), t, xT), xT);
        return new Gaussian(mean, variance, logVariance);
    }

    // ------------------------------------------------------------------ reverse process

    /** Calls the model with the original timesteps, then {@link #pMeanVariance(Tensor, Tensor, Tensor, boolean)}. */
    public MeanVariance pMeanVariance(DenoiserFn model, Tensor x, Tensor t, Tensor y, boolean clipDenoised) {
        return pMeanVariance(callModel(model, x, t, y), x, t, clipDenoised);
    }

    /**
     * p(x_{t-1} | x_t) from a given model output (N, C or 2C, ...): mean, variance, log variance and the x_0
     * prediction (clamped to [-1, 1] when {@code clipDenoised}).
     */
    public MeanVariance pMeanVariance(Tensor modelOutput, Tensor x, Tensor t, boolean clipDenoised) {
        long c = x.size(1);
        Tensor eps;
        Tensor variance;
        Tensor logVariance;
        if (learnsSigma(modelOutput, x)) {
            eps = modelOutput.narrow(1, 0, c);
            Tensor varValues = modelOutput.narrow(1, c, c);
            Tensor minLog = extract(schedule.rawPosteriorLogVarianceClipped(), t, x);
            Tensor maxLog = extract(schedule.rawLogBetas(), t, x);
            // model_var_values in [-1, 1] spans [min_var, max_var]
            Tensor frac = varValues.add(s(1)).div(s(2));
            logVariance = frac.mul(maxLog).add(torch.rsub(frac, s(1)).mul(minLog));
            variance = logVariance.exp();
        } else {
            eps = modelOutput;
            double[] var;
            double[] logVar;
            if (fixedVariance == FixedVariance.LARGE) {
                // for fixed-large, the initial (log-)variance is set to the posterior variance at t = 1
                double[] b = schedule.rawBetas();
                var = b.clone();
                if (var.length > 1) var[0] = schedule.rawPosteriorVariance()[1];
                logVar = new double[var.length];
                for (int i = 0; i < var.length; i++) logVar[i] = Math.log(var[i]);
            } else {
                var = schedule.rawPosteriorVariance();
                logVar = schedule.rawPosteriorLogVarianceClipped();
            }
            variance = full(extract(var, t, x), x);
            logVariance = full(extract(logVar, t, x), x);
        }
        Tensor predXstart = predictXstartFromEps(x, t, eps);
        if (clipDenoised) predXstart = clamp(predXstart, -1, 1);
        Tensor mean = qPosteriorMeanVariance(predXstart, x, t).mean();
        return new MeanVariance(mean, variance, logVariance, predXstart);
    }

    /** x_0 = sqrt(1 / alpha_bar) x_t - sqrt(1 / alpha_bar - 1) eps. */
    public Tensor predictXstartFromEps(Tensor xT, Tensor t, Tensor eps) {
        requireSameShape(xT, eps, "eps");
        return extract(schedule.rawSqrtRecipAlphasCumprod(), t, xT).mul(xT)
                .sub(extract(schedule.rawSqrtRecipm1AlphasCumprod(), t, xT).mul(eps));
    }

    /** eps = (sqrt(1 / alpha_bar) x_t - x_0) / sqrt(1 / alpha_bar - 1). */
    public Tensor predictEpsFromXstart(Tensor xT, Tensor t, Tensor predXstart) {
        return extract(schedule.rawSqrtRecipAlphasCumprod(), t, xT).mul(xT).sub(predXstart)
                .div(extract(schedule.rawSqrtRecipm1AlphasCumprod(), t, xT));
    }

    /** One ancestral step x_t -> x_{t-1} with the given standard-normal noise (unused where t == 0). */
    public Step pSample(DenoiserFn model, Tensor x, Tensor t, Tensor y, boolean clipDenoised, Tensor noise) {
        return pSample(callModel(model, x, t, y), x, t, clipDenoised, noise);
    }

    /** {@link #pSample(DenoiserFn, Tensor, Tensor, Tensor, boolean, Tensor)} from a given model output. */
    public Step pSample(Tensor modelOutput, Tensor x, Tensor t, boolean clipDenoised, Tensor noise) {
        requireSameShape(x, noise, "noise");
        MeanVariance out = pMeanVariance(modelOutput, x, t, clipDenoised);
        Tensor sample = out.mean().add(nonzeroMask(t, x).mul(out.logVariance().mul(s(0.5)).exp()).mul(noise));
        return new Step(sample, out.predXstart());
    }

    /** One DDIM step (eq. 12 of the DDIM paper) with parameter eta; noise is only used when eta != 0. */
    public Step ddimSample(DenoiserFn model, Tensor x, Tensor t, Tensor y, boolean clipDenoised, double eta,
                           Tensor noise) {
        MeanVariance out = pMeanVariance(callModel(model, x, t, y), x, t, clipDenoised);
        // the model predicts epsilon, but it is re-derived in case x_0 was clipped
        Tensor eps = predictEpsFromXstart(x, t, out.predXstart());
        Tensor alphaBar = extract(schedule.rawAlphasCumprod(), t, x);
        Tensor alphaBarPrev = extract(schedule.rawAlphasCumprodPrev(), t, x);
        Tensor sigma = torch.rsub(alphaBarPrev, s(1)).div(torch.rsub(alphaBar, s(1))).sqrt().mul(s(eta))
                .mul(torch.rsub(alphaBar.div(alphaBarPrev), s(1)).sqrt());
        Tensor meanPred = out.predXstart().mul(alphaBarPrev.sqrt())
                .add(torch.rsub(alphaBarPrev, s(1)).sub(sigma.square()).sqrt().mul(eps));
        Tensor sample = meanPred;
        if (eta != 0) {
            requireSameShape(x, noise, "noise");
            sample = meanPred.add(nonzeroMask(t, x).mul(sigma).mul(noise));
        }
        return new Step(sample, out.predXstart());
    }

    // ------------------------------------------------------------------ training

    /**
     * Training terms for one batch ({@code training_losses}): x_t = q_sample(x_0, t, noise), model(x_t, original t,
     * y). For MSE losses: mse = mean over non-batch dims of (noise - eps)^2; with a learned variance, vb is the VLB
     * term in bits computed on the detached eps (so it only trains the variance channels), the discretised-Gaussian
     * decoder NLL at t = 0; loss = mse + vb. RESCALED_MSE scales vb by T / 1000.
     *
     * @param noise the noise to remove; null draws it from libtorch's default generator
     */
    public Losses trainingLosses(DenoiserFn model, Tensor xStart, Tensor t, Tensor y, Tensor noise) {
        if (noise == null) noise = torch.randn_like(xStart);
        Tensor xT = qSample(xStart, t, noise);
        Tensor modelOutput = callModel(model, xT, t, y);
        if (lossType == LossType.KL || lossType == LossType.RESCALED_KL) {
            Tensor vb = vbTermsBpd(modelOutput, xStart, xT, t, false);
            if (lossType == LossType.RESCALED_KL) vb = vb.mul(s(numTimesteps()));
            return new Losses(vb, null, vb);
        }
        long c = xT.size(1);
        Tensor eps = modelOutput;
        Tensor vb = null;
        if (learnsSigma(modelOutput, xT)) {
            eps = modelOutput.narrow(1, 0, c);
            Tensor varValues = modelOutput.narrow(1, c, c);
            // learn the variance with the VLB, without letting it affect the mean prediction
            Tensor frozen = torch.cat(new TensorVector(eps.detach(), varValues), 1);
            vb = vbTermsBpd(frozen, xStart, xT, t, false);
            if (lossType == LossType.RESCALED_MSE) vb = vb.mul(s(numTimesteps() / 1000.0));
        }
        requireSameShape(xStart, eps, "model epsilon");
        Tensor mse = meanFlat(noise.sub(eps).pow(si(2)));
        Tensor loss = vb == null ? mse : mse.add(vb);
        return new Losses(loss, mse, vb);
    }

    /**
     * One VLB term per sample in bits: KL(q(x_{t-1} | x_t, x_0) || p(x_{t-1} | x_t)), or at t = 0 the
     * discretised-Gaussian decoder NLL of x_0.
     */
    public Tensor vbTermsBpd(Tensor modelOutput, Tensor xStart, Tensor xT, Tensor t, boolean clipDenoised) {
        Gaussian q = qPosteriorMeanVariance(xStart, xT, t);
        MeanVariance p = pMeanVariance(modelOutput, xT, t, clipDenoised);
        Tensor kl = meanFlat(normalKl(q.mean(), q.logVariance(), p.mean(), p.logVariance())).div(s(LN2));
        Tensor decoderNll = discretizedGaussianLogLikelihood(xStart, p.mean(), p.logVariance().mul(s(0.5))).neg();
        decoderNll = meanFlat(decoderNll).div(s(LN2));
        Tensor tIsZero = t.eq(s(0)).to(decoderNll.device(), ScalarType.Bool);
        return decoderNll.where(tIsZero, kl);
    }

    // ------------------------------------------------------------------ math helpers (diffusion_utils.py)

    /** KL divergence between two Gaussians given means and log variances, elementwise. */
    public static Tensor normalKl(Tensor mean1, Tensor logvar1, Tensor mean2, Tensor logvar2) {
        return logvar2.add(s(-1.0)).sub(logvar1).add(logvar1.sub(logvar2).exp())
                .add(mean1.sub(mean2).pow(si(2)).mul(logvar2.neg().exp())).mul(s(0.5));
    }

    /** A fast approximation of the standard normal CDF (tanh form). */
    public static Tensor approxStandardNormalCdf(Tensor x) {
        Tensor inner = x.add(torch.pow(x, si(3)).mul(s(0.044715))).mul(s(Math.sqrt(2.0 / Math.PI)));
        return inner.tanh().add(s(1.0)).mul(s(0.5));
    }

    /**
     * Log-likelihood (nats) of x under a Gaussian discretised to 2/255-wide bins on [-1, 1], with open-ended edge
     * bins below -0.999 and above 0.999.
     */
    public static Tensor discretizedGaussianLogLikelihood(Tensor x, Tensor means, Tensor logScales) {
        requireSameShape(x, means, "means");
        requireSameShape(x, logScales, "log_scales");
        Tensor centered = x.sub(means);
        Tensor invStdv = logScales.neg().exp();
        Tensor cdfPlus = approxStandardNormalCdf(invStdv.mul(centered.add(s(1.0 / 255.0))));
        Tensor cdfMin = approxStandardNormalCdf(invStdv.mul(centered.sub(s(1.0 / 255.0))));
        Tensor logCdfPlus = cdfPlus.clamp_min(s(1e-12)).log();
        Tensor logOneMinusCdfMin = torch.rsub(cdfMin, s(1.0)).clamp_min(s(1e-12)).log();
        Tensor cdfDelta = cdfPlus.sub(cdfMin);
        Tensor inner = logOneMinusCdfMin.where(x.gt(s(0.999)), cdfDelta.clamp_min(s(1e-12)).log());
        return logCdfPlus.where(x.lt(s(-0.999)), inner);
    }

    /** Mean over all non-batch dimensions. */
    public static Tensor meanFlat(Tensor x) {
        long[] dims = new long[(int) x.dim() - 1];
        for (int i = 0; i < dims.length; i++) dims[i] = i + 1;
        return x.mean(dims, false, new ScalarTypeOptional());
    }

    /**
     * {@code _extract_into_tensor}: table[t] for each batch element, cast to float32, shaped (N, 1, ..., 1) to
     * broadcast against {@code like}.
     */
    public static Tensor extractIntoTensor(double[] table, Tensor t, Tensor like) {
        long[] idx = Tensors.toLongs(t);
        if (idx.length != like.size(0)) {
            throw new IllegalArgumentException("t has " + idx.length + " entries for a batch of " + like.size(0));
        }
        float[] vals = new float[idx.length];
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= table.length) {
                throw new IndexOutOfBoundsException("timestep " + idx[i] + " outside [0, " + table.length + ")");
            }
            vals[i] = (float) table[(int) idx[i]];
        }
        long[] shape = new long[(int) like.dim()];
        Arrays.fill(shape, 1);
        shape[0] = idx.length;
        return Tensors.floats(vals, shape).to(like.device(), ScalarType.Float);
    }

    // ------------------------------------------------------------------ internals

    Tensor callModel(DenoiserFn model, Tensor x, Tensor t, Tensor y) {
        Tensor out = model.apply(x, mapTimesteps(t), y);
        if (out.dim() != x.dim() || out.size(0) != x.size(0)) {
            throw new IllegalArgumentException("model output " + Tensors.shapeString(out) + " for input "
                    + Tensors.shapeString(x));
        }
        return out;
    }

    /** True for 2C output channels (learned-range variance), false for C; anything else is an error. */
    static boolean learnsSigma(Tensor modelOutput, Tensor x) {
        long c = x.size(1);
        long oc = modelOutput.size(1);
        if (oc == 2 * c) return true;
        if (oc == c) return false;
        throw new IllegalArgumentException("model output has " + oc + " channels for " + c + " input channels");
    }

    private Tensor extract(double[] table, Tensor t, Tensor like) {
        return extractIntoTensor(table, t, like);
    }

    private int checkIndex(long i) {
        if (i < 0 || i >= timestepMap.length) {
            throw new IndexOutOfBoundsException("timestep " + i + " outside [0, " + timestepMap.length + ")");
        }
        return (int) i;
    }

    /** (t != 0) as float32, shaped to broadcast against x. */
    private static Tensor nonzeroMask(Tensor t, Tensor x) {
        long[] shape = new long[(int) x.dim()];
        Arrays.fill(shape, 1);
        shape[0] = -1;
        return t.ne(s(0)).to(x.device(), ScalarType.Float).reshape(shape);
    }

    /** Broadcasts a (N, 1, ...) tensor to x's full shape (the reference returns full-shape tensors). */
    private static Tensor full(Tensor small, Tensor x) {
        return small.expand(x.sizes().vec().get()).contiguous();
    }

    private static Tensor clamp(Tensor x, double lo, double hi) {
        return x.clamp(new ScalarOptional(s(lo)), new ScalarOptional(s(hi)));
    }

    private static void requireSameShape(Tensor a, Tensor b, String what) {
        if (b == null) throw new IllegalArgumentException(what + " is required");
        if (!Arrays.equals(Tensors.shape(a), Tensors.shape(b))) {
            throw new IllegalArgumentException(what + " has shape " + Tensors.shapeString(b) + ", expected "
                    + Tensors.shapeString(a));
        }
    }

    static Scalar s(double v) {
        return new Scalar(v);
    }

    static Scalar si(long v) {
        return new Scalar(v);
    }
}
