package io.udit.sample;

import io.udit.diffusion.ClassifierFreeGuidance;

/**
 * What to sample: one class label per image (the null class or 0 for unconditional models), the sampler and its
 * steps, guidance, seed. Image i's noise comes from its own generator seeded by (seed, firstIndex + i), so an image
 * does not depend on batch size or on how a run is sharded.
 *
 * @param sampler  "ddpm" (ancestral), "ddim" (with eta), "dpm++" (DPM-Solver++ 2M) or "dpm++sde" (its stochastic
 *                 form, SDE-DPM-Solver++ 2M)
 * @param cfgScale guidance scale (1 = no guidance)
 * @param clip     clip predicted x0 to [-1, 1] (pixel-space models)
 * @param noiseSchedule the schedule the model was trained with ("linear", as DiT/U-DiT, or "cosine")
 */
public record SampleRequest(long[] labels, String sampler, int steps, double cfgScale, ClassifierFreeGuidance.Mode cfgMode,
                            long seed, long firstIndex, boolean clip, double eta, int batchSize, String noiseSchedule) {
    public SampleRequest(long[] labels, String sampler, int steps, double cfgScale, ClassifierFreeGuidance.Mode cfgMode,
                         long seed, long firstIndex, boolean clip, double eta, int batchSize) {
        this(labels, sampler, steps, cfgScale, cfgMode, seed, firstIndex, clip, eta, batchSize, "linear");
    }

    public SampleRequest withSchedule(String schedule) {
        return new SampleRequest(labels, sampler, steps, cfgScale, cfgMode, seed, firstIndex, clip, eta, batchSize, schedule);
    }

    public SampleRequest {
        if (!io.udit.diffusion.NoiseSchedule.isKnown(noiseSchedule)) {
            throw new IllegalArgumentException("noise schedule must be linear, cosine or cosine-shiftK, got " + noiseSchedule);
        }
        labels = labels.clone();
        if (!java.util.List.of("ddpm", "ddim", "dpm++", "dpm++sde").contains(sampler)) {
            throw new IllegalArgumentException("sampler must be ddpm, ddim, dpm++ or dpm++sde, got " + sampler);
        }
        if (steps <= 0) throw new IllegalArgumentException("steps must be positive");
        if (!(cfgScale >= 0)) throw new IllegalArgumentException("cfg scale must be >= 0");
        if (batchSize <= 0) throw new IllegalArgumentException("batch size must be positive");
        if (eta < 0) throw new IllegalArgumentException("eta must be >= 0");
    }

    public static SampleRequest of(long[] labels, String sampler, int steps, double cfgScale, long seed, boolean clip) {
        return new SampleRequest(labels, sampler, steps, cfgScale, ClassifierFreeGuidance.Mode.STANDARD, seed, 0, clip, 0.0, 64);
    }

    public int count() {
        return labels.length;
    }

    public SampleRequest slice(int from, int to) {
        return new SampleRequest(java.util.Arrays.copyOfRange(labels, from, to), sampler, steps, cfgScale, cfgMode, seed,
                firstIndex + from, clip, eta, batchSize, noiseSchedule);
    }
}
