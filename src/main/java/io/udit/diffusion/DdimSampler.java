package io.udit.diffusion;

import org.bytedeco.pytorch.Tensor;

/**
 * DDIM sampling ({@code ddim_sample_loop}) on a respaced process with parameter eta (0 = deterministic ODE-like
 * sampler, 1 = DDPM-like noise).
 */
public final class DdimSampler extends AncestralSampler {
    private final double eta;

    public DdimSampler(GaussianDiffusion diffusion, double eta, boolean clipDenoised) {
        super(diffusion, clipDenoised);
        if (eta < 0) throw new IllegalArgumentException("eta must be >= 0");
        this.eta = eta;
    }

    /**
     * {@code steps} steps of the base process with section-count respacing ("50": from T-1 down to 0, as DiT's
     * sample.py respaces), no clipping. Use {@link #of(GaussianDiffusion, String, double)} with "ddim50" for the
     * DDIM paper's integer stride (which starts below T-1).
     */
    public static DdimSampler of(GaussianDiffusion diffusion, int steps, double eta) {
        return new DdimSampler(diffusion.respaced(Integer.toString(steps)), eta, false);
    }

    /** DDIM on an explicit respacing spec ("50", "ddim50", ...). */
    public static DdimSampler of(GaussianDiffusion diffusion, String respacing, double eta) {
        return new DdimSampler(diffusion.respaced(respacing), eta, false);
    }

    @Override
    Tensor step(DenoiserFn model, Tensor x, Tensor t, Tensor y, NoiseSource noise, long[] shape) {
        return diffusion.ddimSample(model, x, t, y, clipDenoised, eta, eta != 0 ? noise.next(shape) : null).sample();
    }
}
