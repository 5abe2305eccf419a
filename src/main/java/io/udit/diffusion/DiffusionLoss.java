package io.udit.diffusion;

import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * The DDPM training loss per sample: the hybrid loss of {@link GaussianDiffusion#trainingLosses} (epsilon MSE plus the
 * variational bound term for learned variances), with the MSE term optionally weighted by min(SNR_t, gamma) / SNR_t
 * (min-SNR-gamma, Hang et al. 2023): easy low-noise steps stop dominating, training converges faster.
 */
public final class DiffusionLoss {
    private final GaussianDiffusion diffusion;
    private final Tensor snrWeights; // per timestep, or null without min-SNR weighting

    /** {@code minSnrGamma} 0 = the plain hybrid loss (the paper's recipe). */
    public DiffusionLoss(GaussianDiffusion diffusion, double minSnrGamma) {
        if (!(minSnrGamma >= 0 && Double.isFinite(minSnrGamma))) throw new IllegalArgumentException("min-SNR gamma must be finite and >= 0");
        this.diffusion = diffusion;
        this.snrWeights = minSnrGamma > 0 ? minSnrWeights(diffusion, minSnrGamma) : null;
    }

    public GaussianDiffusion diffusion() {
        return diffusion;
    }

    /** Per-sample losses for x0 = {@code x} at timesteps {@code t} with the given noise. */
    public GaussianDiffusion.Losses perSample(DenoiserFn model, Tensor x, Tensor t, Tensor y, Tensor noise) {
        GaussianDiffusion.Losses l = diffusion.trainingLosses(model, x, t, y, noise);
        if (snrWeights == null || l.mse() == null) return l;
        Tensor weighted = l.mse().mul(snrWeights.index_select(0, t)); // reweight the MSE term, keep the VLB term
        return new GaussianDiffusion.Losses(l.vb() != null ? weighted.add(l.vb()) : weighted, l.mse(), l.vb());
    }

    /** min(SNR_t, gamma) / SNR_t per timestep, SNR_t = alphabar_t / (1 - alphabar_t), for epsilon prediction. */
    static Tensor minSnrWeights(GaussianDiffusion diffusion, double gamma) {
        double[] ab = diffusion.schedule().alphasCumprod();
        float[] w = new float[ab.length];
        for (int i = 0; i < ab.length; i++) {
            double snr = ab[i] / (1 - ab[i]);
            w[i] = (float) (Math.min(snr, gamma) / snr);
        }
        return Tensors.floats(w, w.length);
    }
}
