package io.udit.api;

import io.udit.diffusion.ClassifierFreeGuidance;

/**
 * How to sample: the sampler ("dpm++", "dpm++sde", "ddim", "ddpm") and its steps, guidance scale and form, seed, x0 clipping
 * and batch size. {@link #defaults()} is DPM-Solver++ with 25 steps and no guidance.
 */
public record SampleOptions(String sampler, int steps, double cfgScale, ClassifierFreeGuidance.Mode cfgMode, long seed,
                            boolean clip, int batchSize) {
    public static SampleOptions defaults() {
        return new SampleOptions("dpm++", 25, 1.0, ClassifierFreeGuidance.Mode.STANDARD, 0, true, 32);
    }

    public SampleOptions withSampler(String s, int n) {
        return new SampleOptions(s, n, cfgScale, cfgMode, seed, clip, batchSize);
    }

    public SampleOptions withGuidance(double scale) {
        return new SampleOptions(sampler, steps, scale, cfgMode, seed, clip, batchSize);
    }

    public SampleOptions withSeed(long s) {
        return new SampleOptions(sampler, steps, cfgScale, cfgMode, s, clip, batchSize);
    }

    public SampleOptions withClip(boolean c) {
        return new SampleOptions(sampler, steps, cfgScale, cfgMode, seed, c, batchSize);
    }
}
