package io.udit.train;

import io.udit.model.ModelConfig;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything a training run needs besides the data: the paper's recipe by default (AdamW lr 1e-4, wd 0,
 * betas (0.9, 0.999), EMA 0.9999, class dropout 0.1 drawn once per sample, linear schedule with 1000 steps).
 *
 * @param globalBatch      samples per optimizer step
 * @param microBatch       samples per forward/backward (globalBatch / microBatch gradient-accumulation steps)
 * @param emaWarmup        use decay min(emaDecay, (1 + step) / (10 + step)) so short runs get a useful EMA
 * @param independentLabelDropout the reference's behaviour: each of U-DiT's three label embedders drops on its own
 * @param sampleEvery      write a preview grid every N steps (0 = never)
 * @param previewPerClass  preview images per class
 * @param previewSampler   sampler for previews ("ddim", "dpm++", "dpm++sde", "ddpm")
 * @param previewSteps     sampler steps for previews
 * @param clipDenoised     clip predicted x0 to [-1, 1] while sampling (pixel-space data)
 * @param gradClip         clip the global gradient norm to this value (0 = off, the paper's recipe)
 * @param warmupSteps      linear learning-rate warm-up over this many steps (0 = off, the paper's recipe)
 * @param minSnrGamma      weight the epsilon MSE per timestep by min(SNR, gamma) / SNR (Hang et al. 2023; 0 = off,
 *                         the paper's recipe): stops easy low-noise steps from dominating, faster convergence
 */
public record TrainConfig(
        ModelConfig model,
        int globalBatch,
        int microBatch,
        long steps,
        double lr,
        double weightDecay,
        double beta1,
        double beta2,
        double emaDecay,
        boolean emaWarmup,
        boolean independentLabelDropout,
        long seed,
        int logEvery,
        int checkpointEvery,
        int keepCheckpoints,
        int sampleEvery,
        int previewPerClass,
        String previewSampler,
        int previewSteps,
        double previewCfgScale,
        String noiseSchedule,
        int diffusionSteps,
        boolean clipDenoised,
        int loaderWorkers,
        double gradClip,
        int warmupSteps,
        double minSnrGamma) {

    public TrainConfig {
        if (globalBatch <= 0 || microBatch <= 0 || globalBatch % microBatch != 0) {
            throw new IllegalArgumentException("global batch " + globalBatch + " must be a positive multiple of the micro batch " + microBatch);
        }
        if (steps < 0) throw new IllegalArgumentException("steps must be >= 0");
        if (!(lr > 0)) throw new IllegalArgumentException("lr must be positive");
        if (emaDecay < 0 || emaDecay >= 1) throw new IllegalArgumentException("ema decay must be in [0, 1)");
        if (!io.udit.diffusion.NoiseSchedule.isKnown(noiseSchedule)) {
            throw new IllegalArgumentException("noise schedule must be linear, cosine or cosine-shiftK, got " + noiseSchedule);
        }
        if (minSnrGamma < 0) throw new IllegalArgumentException("min-SNR gamma must be >= 0");
        if (gradClip < 0 || warmupSteps < 0) throw new IllegalArgumentException("grad clip and warm-up steps must be >= 0");
        if (logEvery <= 0 || checkpointEvery < 0 || keepCheckpoints < 1 || sampleEvery < 0) {
            throw new IllegalArgumentException("log-every must be > 0, checkpoint-every and sample-every >= 0, keep >= 1");
        }
    }

    /** The paper's recipe for a model; batch, steps and seed still to choose. */
    public static TrainConfig defaults(ModelConfig model) {
        return new TrainConfig(model, 256, 256, 400_000, 1e-4, 0.0, 0.9, 0.999, 0.9999, false, false, 0,
                100, 50_000, 3, 0, 2, "ddim", 50, 1.0, "linear", 1000, false, 0, 0.0, 0, 0.0);
    }

    /** The learning rate at a step (0-based): linear warm-up, then constant. */
    public double lrAt(long step) {
        return warmupSteps > 0 && step < warmupSteps ? lr * (step + 1) / warmupSteps : lr;
    }

    public int accumulation() {
        return globalBatch / microBatch;
    }

    public TrainConfig withBatch(int global, int micro) {
        return new TrainConfig(model, global, micro, steps, lr, weightDecay, beta1, beta2, emaDecay, emaWarmup,
                independentLabelDropout, seed, logEvery, checkpointEvery, keepCheckpoints, sampleEvery, previewPerClass,
                previewSampler, previewSteps, previewCfgScale, noiseSchedule, diffusionSteps, clipDenoised, loaderWorkers, gradClip, warmupSteps, minSnrGamma);
    }

    public TrainConfig withModel(ModelConfig m) {
        return new TrainConfig(m, globalBatch, microBatch, steps, lr, weightDecay, beta1, beta2, emaDecay, emaWarmup,
                independentLabelDropout, seed, logEvery, checkpointEvery, keepCheckpoints, sampleEvery, previewPerClass,
                previewSampler, previewSteps, previewCfgScale, noiseSchedule, diffusionSteps, clipDenoised, loaderWorkers, gradClip, warmupSteps, minSnrGamma);
    }

    public TrainConfig withSteps(long s) {
        return new TrainConfig(model, globalBatch, microBatch, s, lr, weightDecay, beta1, beta2, emaDecay, emaWarmup,
                independentLabelDropout, seed, logEvery, checkpointEvery, keepCheckpoints, sampleEvery, previewPerClass,
                previewSampler, previewSteps, previewCfgScale, noiseSchedule, diffusionSteps, clipDenoised, loaderWorkers, gradClip, warmupSteps, minSnrGamma);
    }

    /** The run's settings by name (model config under "model"), written into checkpoints and config.json. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model.toMap());
        m.put("global_batch_size", globalBatch);
        m.put("micro_batch_size", microBatch);
        m.put("steps", steps);
        m.put("lr", lr);
        m.put("weight_decay", weightDecay);
        m.put("betas", java.util.List.of(beta1, beta2));
        m.put("ema_decay", emaDecay);
        m.put("ema_warmup", emaWarmup);
        m.put("independent_label_dropout", independentLabelDropout);
        m.put("seed", seed);
        m.put("log_every", logEvery);
        m.put("checkpoint_every", checkpointEvery);
        m.put("keep_checkpoints", keepCheckpoints);
        m.put("sample_every", sampleEvery);
        m.put("preview_per_class", previewPerClass);
        m.put("preview_sampler", previewSampler);
        m.put("preview_steps", previewSteps);
        m.put("preview_cfg_scale", previewCfgScale);
        m.put("noise_schedule", noiseSchedule);
        m.put("diffusion_steps", diffusionSteps);
        m.put("clip_denoised", clipDenoised);
        m.put("loader_workers", loaderWorkers);
        m.put("grad_clip", gradClip);
        m.put("warmup_steps", warmupSteps);
        m.put("min_snr_gamma", minSnrGamma);
        return m;
    }
}
