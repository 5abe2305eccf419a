package io.udit.sample;

import io.udit.diffusion.ClassifierFreeGuidance;
import io.udit.diffusion.GuidanceInterval;
import io.udit.transport.DiffusionForm;
import io.udit.transport.FlowSamplerSpec;
import io.udit.transport.LastStep;
import io.udit.transport.OdeMethod;
import io.udit.transport.SdeMethod;
import io.udit.transport.Transport;

import java.util.List;

/**
 * What to sample: one class label per image (the null class or 0 for unconditional models), the sampler and its
 * steps, guidance, seed. Image i's noise comes from its own generator seeded by (seed, firstIndex + i), so an image
 * does not depend on batch size or on how a run is sharded. Built by name: {@code SampleRequest.builder(labels)
 * .sampler("ddim").steps(50).cfgScale(4).build()}.
 *
 * @param sampler       DDPM models: "ddpm" (ancestral), "ddim" (with eta), "dpm++" (DPM-Solver++ 2M), "dpm++sde"
 *                      (SDE-DPM-Solver++ 2M); flow models: the ODE methods "euler", "midpoint", "rk4", "heun2",
 *                      "dopri5" and the SDE methods "sde-euler", "sde-heun"
 * @param steps         DDPM samplers: sampling steps; flow samplers: grid points, as SiT's num_steps
 * @param cfgScale      guidance scale (1 = no guidance)
 * @param guidanceLow   guidance only where the normalised time s (0 = noise, 1 = data) is in [low, high]
 * @param clip          clip predicted x0 to [-1, 1] (pixel-space DDPM models)
 * @param noiseSchedule DDPM models: the schedule the model was trained with ("linear", as DiT/U-DiT, or "cosine")
 * @param transport     the flow-matching objective of a flow model; null for a DDPM model
 * @param flow          flow samplers' options (tolerances, grid shift, SDE diffusion and last step)
 */
public record SampleRequest(long[] labels, String sampler, int steps, double cfgScale, ClassifierFreeGuidance.Mode cfgMode,
                            double guidanceLow, double guidanceHigh, long seed, long firstIndex, boolean clip, double eta,
                            int batchSize, String noiseSchedule, Transport transport, FlowOptions flow) {
    public static final List<String> DDPM_SAMPLERS = List.of("ddpm", "ddim", "dpm++", "dpm++sde");
    public static final List<String> FLOW_SAMPLERS = List.of("euler", "midpoint", "rk4", "heun2", "dopri5", "sde-euler", "sde-heun");

    public SampleRequest {
        labels = labels.clone();
        if (transport == null && !DDPM_SAMPLERS.contains(sampler)) {
            throw new IllegalArgumentException("sampler '" + sampler + "' does not fit a DDPM model; use one of " + String.join(", ", DDPM_SAMPLERS));
        }
        if (transport != null && !FLOW_SAMPLERS.contains(sampler)) {
            throw new IllegalArgumentException("sampler '" + sampler + "' does not fit a flow-matching model; use one of " + String.join(", ", FLOW_SAMPLERS));
        }
        if (!io.udit.diffusion.NoiseSchedule.isKnown(noiseSchedule)) {
            throw new IllegalArgumentException("noise schedule must be linear, cosine or cosine-shiftK, got " + noiseSchedule);
        }
        if (steps < 1 || steps > 100_000) throw new IllegalArgumentException("steps must be in [1, 100000], got " + steps);
        if (transport != null && steps < 2) throw new IllegalArgumentException("a flow sampler needs at least 2 grid points (steps), got " + steps);
        if (!(cfgScale >= 0 && cfgScale <= 1000)) throw new IllegalArgumentException("cfg scale must be in [0, 1000], got " + cfgScale);
        if (!(guidanceLow >= 0 && guidanceLow <= guidanceHigh && guidanceHigh <= 1)) {
            throw new IllegalArgumentException("guidance interval must satisfy 0 <= low <= high <= 1, got [" + guidanceLow + ", " + guidanceHigh + "]");
        }
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        if (!(eta >= 0 && eta <= 1000)) throw new IllegalArgumentException("eta must be finite and >= 0, got " + eta);
    }

    /** Flow samplers' options; SiT's sample.py defaults. */
    public record FlowOptions(double atol, double rtol, double shift, String diffusionForm, double diffusionNorm,
                              String lastStep, double lastStepSize) {
        public static final FlowOptions DEFAULTS = new FlowOptions(1e-6, 1e-3, 1.0, "sigma", 1.0, "Mean", 0.04);

        public FlowOptions {
            if (!(atol > 0 && atol < 1) || !(rtol > 0 && rtol < 1)) throw new IllegalArgumentException("atol and rtol must be in (0, 1)");
            if (!(shift > 0 && shift <= 1000)) throw new IllegalArgumentException("timestep shift must be in (0, 1000], got " + shift);
            DiffusionForm.parse(diffusionForm);
            LastStep.parse(lastStep);
            if (!(diffusionNorm >= 0 && diffusionNorm <= 1000)) throw new IllegalArgumentException("diffusion norm must be in [0, 1000], got " + diffusionNorm);
            if (!(lastStepSize > 0 && lastStepSize < 1)) throw new IllegalArgumentException("last step size must be in (0, 1), got " + lastStepSize);
        }
    }

    public static Builder builder(long[] labels) {
        return new Builder(labels);
    }

    public Builder toBuilder() {
        return new Builder(labels).sampler(sampler).steps(steps).cfgScale(cfgScale).cfgMode(cfgMode)
                .guidanceInterval(guidanceLow, guidanceHigh).seed(seed).firstIndex(firstIndex).clip(clip).eta(eta)
                .batchSize(batchSize).noiseSchedule(noiseSchedule).transport(transport).flow(flow);
    }

    public int count() {
        return labels.length;
    }

    public SampleRequest slice(int from, int to) {
        return toBuilder().labels(java.util.Arrays.copyOfRange(labels, from, to)).firstIndex(firstIndex + from).build();
    }

    /** Whether guidance is restricted to part of the trajectory. */
    public GuidanceInterval guidanceInterval() {
        return transport != null ? GuidanceInterval.flow(guidanceLow, guidanceHigh) : GuidanceInterval.ddpm(guidanceLow, guidanceHigh, 1000);
    }

    /** The flow sampler this request names (flow models only). */
    public FlowSamplerSpec flowSpec() {
        if (sampler.startsWith("sde-")) {
            return FlowSamplerSpec.sde(SdeMethod.parse(sampler.substring(4)), steps, DiffusionForm.parse(flow.diffusionForm()),
                    flow.diffusionNorm(), LastStep.parse(flow.lastStep()), flow.lastStepSize(), flow.shift());
        }
        return FlowSamplerSpec.ode(OdeMethod.parse(sampler), steps, flow.atol(), flow.rtol(), flow.shift());
    }

    /** Builds a {@link SampleRequest} by name; defaults: ddim, 50 steps, no guidance, seed 0, batch 64, linear schedule. */
    public static final class Builder {
        private long[] labels;
        private String sampler;
        private int steps = 50;
        private double cfgScale = 1.0;
        private ClassifierFreeGuidance.Mode cfgMode = ClassifierFreeGuidance.Mode.STANDARD;
        private double guidanceLow = 0, guidanceHigh = 1;
        private long seed, firstIndex;
        private boolean clip;
        private double eta;
        private int batchSize = 64;
        private String noiseSchedule = "linear";
        private Transport transport;
        private FlowOptions flow = FlowOptions.DEFAULTS;

        private Builder(long[] labels) {
            this.labels = labels;
        }

        public Builder labels(long[] v) { labels = v; return this; }
        /** The sampler; null = "ddim" for DDPM models, "heun2" for flow models. */
        public Builder sampler(String v) { sampler = v; return this; }
        public Builder steps(int v) { steps = v; return this; }
        public Builder cfgScale(double v) { cfgScale = v; return this; }
        public Builder cfgMode(ClassifierFreeGuidance.Mode v) { cfgMode = v; return this; }
        public Builder guidanceInterval(double low, double high) { guidanceLow = low; guidanceHigh = high; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder firstIndex(long v) { firstIndex = v; return this; }
        public Builder clip(boolean v) { clip = v; return this; }
        public Builder eta(double v) { eta = v; return this; }
        public Builder batchSize(int v) { batchSize = v; return this; }
        public Builder noiseSchedule(String v) { noiseSchedule = v; return this; }
        public Builder transport(Transport v) { transport = v; return this; }
        public Builder flow(FlowOptions v) { flow = v; return this; }

        public SampleRequest build() {
            String s = sampler != null ? sampler : transport != null ? "heun2" : "ddim";
            return new SampleRequest(labels, s, steps, cfgScale, cfgMode, guidanceLow, guidanceHigh, seed, firstIndex, clip, eta,
                    batchSize, noiseSchedule, transport, flow);
        }
    }
}
