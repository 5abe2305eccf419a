package io.udit.diffusion;

import org.bytedeco.pytorch.Tensor;

/**
 * Ancestral DDPM sampling ({@code p_sample_loop}) on a respaced process: from index K-1 down to 0, x = mean +
 * sigma * noise (no noise at the last step). The reference samples with 250 steps and no clipping in latent space.
 */
public final class DdpmSampler extends AncestralSampler {

    /** Samples on {@code diffusion}'s own (possibly respaced) steps. */
    public DdpmSampler(GaussianDiffusion diffusion, boolean clipDenoised) {
        super(diffusion, clipDenoised);
    }

    /** {@code steps} evenly spaced steps of the base process ("250" respacing for 250), no clipping. */
    public static DdpmSampler of(GaussianDiffusion diffusion, int steps) {
        return new DdpmSampler(diffusion.respaced(Integer.toString(steps)), false);
    }

    @Override
    Tensor step(DenoiserFn model, Tensor x, Tensor t, Tensor y, NoiseSource noise, long[] shape) {
        return diffusion.pSample(model, x, t, y, clipDenoised, noise.next(shape)).sample();
    }
}
