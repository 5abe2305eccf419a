package io.udit.train;

import io.udit.model.ModelConfig;
import io.udit.model.ModelConfigs;
import io.udit.sample.SampleRequest;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Every setting that shapes a training run, in one record: written to {@code R/config.json} when the run starts and
 * read back by {@code udit train --resume} and {@code udit train --config}. Built by name through {@link #builder}
 * (defaults: the paper's recipe, AdamW lr 1e-4, wd 0, betas (0.9, 0.999), EMA 0.9999, class dropout drawn once per
 * sample, linear schedule with 1000 steps) or from JSON through {@link #fromMap}; {@link #toMap} writes the same keys.
 *
 * <p>Fields split into the run's identity ({@link #IDENTITY_KEYS}: what the weights and losses depend on) and settings
 * that a resumed run may change (total steps, cadences, loader threads, micro-batch, ...).
 *
 * @param model           the network
 * @param data            the data spec ({@code synthetic[:K]}, {@code fashion-mnist[:DIR]}, a folder), or a description
 *                        when an application passes its own dataset
 * @param resolution      data side length; null = the dataset's own
 * @param unconditional   ignore labels (one class)
 * @param vae             diffusers VAE folder that encodes the images on the fly; null = train on the data as it is
 * @param objective       the training objective: {@code ddpm} (the paper's) or {@code flow}
 * @param noiseSchedule   DDPM: linear (the paper), cosine, or cosine-shiftK
 * @param diffusionSteps  DDPM: timesteps of the schedule
 * @param minSnrGamma     DDPM: min-SNR-gamma weighting of the epsilon MSE (0 = off, the paper's recipe)
 * @param flow            flow-matching settings (used when {@code objective} is {@code flow})
 * @param globalBatch     samples per optimizer step
 * @param microBatch      samples per forward/backward on one process; null = this process's share of the global batch
 * @param steps           optimizer steps in total
 * @param gradClip        clip the global gradient norm to this value (0 = off)
 * @param warmupSteps     linear learning-rate warm-up steps (0 = off)
 * @param emaWarmup       use EMA decay min(decay, (1 + step) / (10 + step)), useful for short runs
 * @param independentLabelDropout the reference's behaviour: each of U-DiT's label embedders drops on its own
 * @param sampleEvery     a preview grid every N steps (0 = never)
 * @param clipDenoised    clip predicted x0 to [-1, 1] in previews; null = on for pixel data, off for latents
 * @param loaderWorkers   data loader threads (0 = automatic)
 * @param skipNonFinite   skip steps with a NaN/Inf loss or gradient instead of stopping
 * @param checkpointActivations recompute each block's activations in the backward pass instead of keeping them
 *                        (less memory, the same losses and gradients, more time); without clipping,
 *                        accumulation, ranks or skipping, AdamW then updates each block within the backward
 *                        (BlockwiseAdamW)
 * @param eval            evaluation during training: sample fixed noise every N steps, score it, keep the best checkpoint
 */
public record RunConfig(
        ModelConfig model,
        String data,
        Integer resolution,
        boolean unconditional,
        String vae,
        String objective,
        String noiseSchedule,
        int diffusionSteps,
        double minSnrGamma,
        FlowSettings flow,
        int globalBatch,
        Integer microBatch,
        long steps,
        double lr,
        double weightDecay,
        double beta1,
        double beta2,
        double gradClip,
        int warmupSteps,
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
        Boolean clipDenoised,
        int loaderWorkers,
        boolean skipNonFinite,
        boolean checkpointActivations,
        EvalSettings eval) {

    /** Largest accepted batch and step count: far beyond any real run, small enough to never overflow. */
    public static final int MAX_BATCH = 1 << 20;
    public static final long MAX_STEPS = 1L << 40;
    public static final List<String> OBJECTIVES = List.of("ddpm", "flow");

    /** The keys that make a run what it is: a resumed run must agree on all of them. */
    public static final List<String> IDENTITY_KEYS = List.of("model", "data", "resolution", "unconditional", "vae", "objective",
            "noise_schedule", "diffusion_steps", "min_snr_gamma", "flow", "global_batch_size", "seed", "independent_label_dropout");

    public RunConfig {
        Objects.requireNonNull(model, "model");
        if (data == null || data.isBlank()) throw new IllegalArgumentException("data: missing (e.g. \"synthetic\", \"fashion-mnist\", a folder)");
        if (resolution != null && (resolution < 1 || resolution > 1 << 14)) throw bad("resolution", resolution, "in [1, 16384]");
        if (!OBJECTIVES.contains(objective)) throw bad("objective", objective, "one of " + OBJECTIVES);
        if (!io.udit.diffusion.NoiseSchedule.isKnown(noiseSchedule)) throw bad("noise_schedule", noiseSchedule, "linear, cosine or cosine-shiftK");
        if (diffusionSteps < 1 || diffusionSteps > 100_000) throw bad("diffusion_steps", diffusionSteps, "in [1, 100000]");
        finiteAtLeast("min_snr_gamma", minSnrGamma, 0);
        Objects.requireNonNull(flow, "flow");
        if (globalBatch < 1 || globalBatch > MAX_BATCH) throw bad("global_batch_size", globalBatch, "in [1, " + MAX_BATCH + "]");
        if (microBatch != null && (microBatch < 1 || microBatch > globalBatch || globalBatch % microBatch != 0)) {
            throw new IllegalArgumentException("micro_batch_size: global batch " + globalBatch + " must be a positive multiple of the micro batch " + microBatch);
        }
        if (steps < 0 || steps > MAX_STEPS) throw bad("steps", steps, "in [0, 2^40]");
        if (!(lr > 0 && Double.isFinite(lr))) throw bad("lr", lr, "finite and > 0");
        finiteAtLeast("weight_decay", weightDecay, 0);
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) throw bad("betas", List.of(beta1, beta2), "each in [0, 1)");
        finiteAtLeast("grad_clip", gradClip, 0);
        if (warmupSteps < 0) throw bad("warmup_steps", warmupSteps, ">= 0");
        if (!(emaDecay >= 0 && emaDecay < 1)) throw bad("ema_decay", emaDecay, "in [0, 1)");
        if (logEvery < 1) throw bad("log_every", logEvery, ">= 1");
        if (checkpointEvery < 0) throw bad("checkpoint_every", checkpointEvery, ">= 0 (0 = only at the end)");
        if (keepCheckpoints < 1 || keepCheckpoints > 1_000_000) throw bad("keep_checkpoints", keepCheckpoints, "in [1, 1000000]");
        if (sampleEvery < 0) throw bad("sample_every", sampleEvery, ">= 0 (0 = never)");
        if (previewPerClass < 1 || previewPerClass > 1000) throw bad("preview_per_class", previewPerClass, "in [1, 1000]");
        List<String> samplers = objective.equals("flow") ? SampleRequest.FLOW_SAMPLERS : SampleRequest.DDPM_SAMPLERS;
        if (!samplers.contains(previewSampler)) {
            throw bad("preview_sampler", previewSampler, "one of " + String.join(", ", samplers) + " for the " + objective + " objective");
        }
        if (previewSteps < 1 || previewSteps > 10_000) throw bad("preview_steps", previewSteps, "in [1, 10000]");
        if (!(previewCfgScale >= 0 && previewCfgScale <= 100)) throw bad("preview_cfg_scale", previewCfgScale, "in [0, 100]");
        if (loaderWorkers < 0 || loaderWorkers > 256) throw bad("loader_workers", loaderWorkers, "in [0, 256]");
        if (checkpointActivations && model instanceof io.udit.model.UDiTConfig u && u.depth().get(4) == 0) {
            throw bad("checkpoint_activations", true, "off for a U-DiT whose last level has no blocks (depth[4] = 0)");
        }
        Objects.requireNonNull(eval, "eval");
        if (eval.sampler() != null && !samplers.contains(eval.sampler())) {
            throw bad("eval.sampler", eval.sampler(), "one of " + String.join(", ", samplers) + " for the " + objective + " objective");
        }
    }

    private static IllegalArgumentException bad(String key, Object value, String expected) {
        return new IllegalArgumentException(key + " must be " + expected + ", got " + value);
    }

    private static void finiteAtLeast(String key, double v, double min) {
        if (!(Double.isFinite(v) && v >= min)) throw bad(key, v, "finite and >= " + min);
    }

    /** The paper's recipe for a model and data; batch, steps and seed still to choose. */
    public static Builder builder(ModelConfig model, String data) {
        return new Builder(model, data);
    }

    /** A builder holding every setting of this config. */
    public Builder toBuilder() {
        return fromMapInto(toMap(), new Builder(model, data));
    }

    /** The learning rate at a step (0-based): linear warm-up, then constant. */
    public double lrAt(long step) {
        return warmupSteps > 0 && step < warmupSteps ? lr * (step + 1) / warmupSteps : lr;
    }

    /** Samples per forward/backward on one of {@code worldSize} processes. */
    public int microBatchFor(int worldSize) {
        if (microBatch != null) return microBatch;
        return globalBatch % worldSize == 0 ? globalBatch / worldSize : globalBatch;
    }

    /** Whether previews clip predicted x0: as configured, else for pixel data only. */
    public boolean clipsDenoised(boolean pixelData) {
        return clipDenoised != null ? clipDenoised : pixelData;
    }

    /** The flow-matching objective's transport (SiT), or null for the DDPM objective. */
    public io.udit.transport.Transport transport() {
        if (!objective.equals("flow")) return null;
        return io.udit.transport.Transport.create(io.udit.transport.FlowPath.parse(flow.path()),
                io.udit.transport.Prediction.parse(flow.prediction()), io.udit.transport.LossWeight.parse(flow.lossWeight()),
                flow.trainEps(), flow.sampleEps());
    }

    /** Flow-matching settings (SiT's transport): the interpolation path, what the network predicts, the loss weight. */
    public record FlowSettings(String path, String prediction, String lossWeight, Double trainEps, Double sampleEps,
                               String timestepSampling, double logitNormalLocation, double logitNormalScale) {
        public static final List<String> PATHS = List.of("linear", "gvp", "vp");
        public static final List<String> PREDICTIONS = List.of("velocity", "noise", "score");
        public static final List<String> LOSS_WEIGHTS = List.of("none", "velocity", "likelihood");
        public static final List<String> TIMESTEP_SAMPLINGS = List.of("uniform", "logit-normal");

        public FlowSettings {
            if (!PATHS.contains(path)) throw bad("flow.path", path, "one of " + PATHS);
            if (!PREDICTIONS.contains(prediction)) throw bad("flow.prediction", prediction, "one of " + PREDICTIONS);
            if (!LOSS_WEIGHTS.contains(lossWeight)) throw bad("flow.loss_weight", lossWeight, "one of " + LOSS_WEIGHTS);
            if (trainEps != null && !(trainEps >= 0 && trainEps < 0.5)) throw bad("flow.train_eps", trainEps, "in [0, 0.5)");
            if (sampleEps != null && !(sampleEps >= 0 && sampleEps < 0.5)) throw bad("flow.sample_eps", sampleEps, "in [0, 0.5)");
            if (!TIMESTEP_SAMPLINGS.contains(timestepSampling)) throw bad("flow.timestep_sampling", timestepSampling, "one of " + TIMESTEP_SAMPLINGS);
            if (!Double.isFinite(logitNormalLocation) || Math.abs(logitNormalLocation) > 10) {
                throw bad("flow.logit_normal_location", logitNormalLocation, "finite, |x| <= 10");
            }
            if (!(logitNormalScale > 0 && logitNormalScale <= 10)) throw bad("flow.logit_normal_scale", logitNormalScale, "in (0, 10]");
        }

        /** SiT's defaults: linear path, velocity prediction, no loss weight, SiT's eps, uniform timesteps. */
        public static FlowSettings defaults() {
            return new FlowSettings("linear", "velocity", "none", null, null, "uniform", 0.0, 1.0);
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("path", path);
            m.put("prediction", prediction);
            m.put("loss_weight", lossWeight);
            m.put("train_eps", trainEps);
            m.put("sample_eps", sampleEps);
            m.put("timestep_sampling", timestepSampling);
            m.put("logit_normal_location", logitNormalLocation);
            m.put("logit_normal_scale", logitNormalScale);
            return m;
        }

        static FlowSettings fromMap(Map<?, ?> m) {
            ConfigKeys.checkKnown(m, defaults().toMap().keySet(), "flow.");
            FlowSettings d = defaults();
            String p = "flow.";
            return new FlowSettings(ConfigKeys.string(m, "path", d.path, p), ConfigKeys.string(m, "prediction", d.prediction, p),
                    ConfigKeys.string(m, "loss_weight", d.lossWeight, p),
                    ConfigKeys.optDouble(m, "train_eps", p), ConfigKeys.optDouble(m, "sample_eps", p),
                    ConfigKeys.string(m, "timestep_sampling", d.timestepSampling, p),
                    ConfigKeys.dbl(m, "logit_normal_location", d.logitNormalLocation, p),
                    ConfigKeys.dbl(m, "logit_normal_scale", d.logitNormalScale, p));
        }
    }

    /**
     * Evaluation during training ({@code udit train --eval-every N}): every {@code every} steps (and at the end) the EMA
     * model samples {@code perClass} images of every class from fixed noise ({@code seed}); the judge classifier scores
     * them (Fréchet distance of its features, class fidelity) and, with Inception weights and a reference batch, so do
     * FID, sFID, Inception Score, precision and recall. {@code checkpoints/best.pt} keeps the best by {@code metric}.
     *
     * @param every     steps between evaluations (0 = never)
     * @param perClass  images of every class
     * @param sampler   the sampler; null = dpm++sde for the DDPM objective, heun2 for flow matching
     * @param steps     sampler steps
     * @param cfgScale  classifier-free guidance scale
     * @param seed      seed of the evaluation noise (the same at every evaluation)
     * @param metric    the metric that picks {@code best.pt}; null = fid with Inception weights, else frechet_distance
     * @param inception pytorch-fid Inception weights (FID, sFID, IS, precision, recall); null = judge metrics only
     * @param reference the ADM reference batch (.npz) the Inception metrics compare with; given with {@code inception}
     * @param judgeEpochs  epochs of the judge classifier's training (once per data set and settings, then cached)
     * @param judgeSamples training images of the judge classifier (at most)
     */
    public record EvalSettings(int every, int perClass, String sampler, int steps, double cfgScale, long seed, String metric,
                               String inception, String reference, int judgeEpochs, int judgeSamples) {
        /** Every metric an evaluation reports, and whether lower is better. */
        public static final Map<String, Boolean> LOWER_IS_BETTER = orderedMetrics();
        public static final List<String> INCEPTION_METRICS = List.of("fid", "sfid", "inception_score", "precision", "recall");

        private static Map<String, Boolean> orderedMetrics() {
            Map<String, Boolean> m = new LinkedHashMap<>();
            m.put("frechet_distance", true);
            m.put("fidelity", false);
            m.put("fid", true);
            m.put("sfid", true);
            m.put("inception_score", false);
            m.put("precision", false);
            m.put("recall", false);
            return java.util.Collections.unmodifiableMap(m);
        }

        public EvalSettings {
            if (every < 0) throw bad("eval.every", every, ">= 0 (0 = never)");
            if (perClass < 2 || perClass > 10_000) throw bad("eval.per_class", perClass, "in [2, 10000]");
            if (steps < 1 || steps > 10_000) throw bad("eval.steps", steps, "in [1, 10000]");
            if (!(cfgScale >= 0 && cfgScale <= 100)) throw bad("eval.cfg_scale", cfgScale, "in [0, 100]");
            if ((inception == null) != (reference == null)) {
                throw new IllegalArgumentException("eval.inception and eval.reference go together: the Inception metrics need"
                        + " both the weights and a reference batch");
            }
            if (metric == null) metric = inception != null ? "fid" : "frechet_distance";
            if (!LOWER_IS_BETTER.containsKey(metric)) throw bad("eval.metric", metric, "one of " + String.join(", ", LOWER_IS_BETTER.keySet()));
            if (INCEPTION_METRICS.contains(metric) && inception == null) {
                throw bad("eval.metric", metric, "frechet_distance or fidelity without Inception weights (eval.inception)");
            }
            if (judgeEpochs < 1 || judgeEpochs > 1000) throw bad("eval.judge_epochs", judgeEpochs, "in [1, 1000]");
            if (judgeSamples < 16 || judgeSamples > 100_000_000) throw bad("eval.judge_samples", judgeSamples, "in [16, 100000000]");
        }

        /** The evaluation with other settings of the judge classifier. */
        public EvalSettings withJudge(int epochs, int samples) {
            return new EvalSettings(every, perClass, sampler, steps, cfgScale, seed, metric, inception, reference, epochs, samples);
        }

        /** Off: no evaluation during training. */
        public static EvalSettings defaults() {
            io.udit.eval.ClassifierMetrics.Config judge = io.udit.eval.ClassifierMetrics.Config.defaults();
            return new EvalSettings(0, 10, null, 25, 4.0, 20_260_000L, null, null, null, judge.epochs(), judge.maxTrainSamples());
        }

        /** Whether lower values of the chosen metric are better. */
        public boolean lowerIsBetter() {
            return LOWER_IS_BETTER.get(metric);
        }

        /** The sampler for a run of this objective. */
        public String samplerFor(String objective) {
            return sampler != null ? sampler : objective.equals("flow") ? "heun2" : "dpm++sde";
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("every", every);
            m.put("per_class", perClass);
            m.put("sampler", sampler);
            m.put("steps", steps);
            m.put("cfg_scale", cfgScale);
            m.put("seed", seed);
            m.put("metric", metric);
            m.put("inception", inception);
            m.put("reference", reference);
            m.put("judge_epochs", judgeEpochs);
            m.put("judge_samples", judgeSamples);
            return m;
        }

        static EvalSettings fromMap(Map<?, ?> m) {
            ConfigKeys.checkKnown(m, defaults().toMap().keySet(), "eval.");
            EvalSettings d = defaults();
            String p = "eval.";
            return new EvalSettings(ConfigKeys.integer(m, "every", d.every, p), ConfigKeys.integer(m, "per_class", d.perClass, p),
                    ConfigKeys.optString(m, "sampler", p), ConfigKeys.integer(m, "steps", d.steps, p),
                    ConfigKeys.dbl(m, "cfg_scale", d.cfgScale, p), ConfigKeys.lng(m, "seed", d.seed, p),
                    ConfigKeys.optString(m, "metric", p), ConfigKeys.optString(m, "inception", p), ConfigKeys.optString(m, "reference", p),
                    ConfigKeys.integer(m, "judge_epochs", d.judgeEpochs, p), ConfigKeys.integer(m, "judge_samples", d.judgeSamples, p));
        }
    }

    /** The run's settings by name, as written to {@code config.json} and into checkpoints. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model.toMap());
        m.put("data", data);
        m.put("resolution", resolution);
        m.put("unconditional", unconditional);
        m.put("vae", vae);
        m.put("objective", objective);
        m.put("noise_schedule", noiseSchedule);
        m.put("diffusion_steps", diffusionSteps);
        m.put("min_snr_gamma", minSnrGamma);
        m.put("flow", flow.toMap());
        m.put("global_batch_size", globalBatch);
        m.put("micro_batch_size", microBatch);
        m.put("steps", steps);
        m.put("lr", lr);
        m.put("weight_decay", weightDecay);
        m.put("betas", List.of(beta1, beta2));
        m.put("grad_clip", gradClip);
        m.put("warmup_steps", warmupSteps);
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
        m.put("clip_denoised", clipDenoised);
        m.put("loader_workers", loaderWorkers);
        m.put("skip_nonfinite", skipNonFinite);
        m.put("checkpoint_activations", checkpointActivations);
        m.put("eval", eval.toMap());
        return m;
    }

    /** Every key a run config may hold. */
    public static Set<String> keys() {
        return Builder.KEYS;
    }

    /**
     * Reads a run config: {@code model} is a model config object (reference argument names) or a model name, every
     * other key is optional with the builder's default. An unknown key is an error naming the nearest valid key.
     */
    public static RunConfig fromMap(Map<String, ?> map) {
        ConfigKeys.checkKnown(map, keys(), "");
        Object m = map.get("model");
        if (m == null) throw new IllegalArgumentException("model: missing (a model config object or a name such as U-DiT-S)");
        ModelConfig model = m instanceof String name ? ModelConfigs.named(name)
                : m instanceof Map<?, ?> mm ? ModelConfigs.fromMap(stringKeys(mm)) : null;
        if (model == null) throw new IllegalArgumentException("model: must be a model config object or a model name");
        Object data = map.get("data");
        if (!(data instanceof String d)) throw new IllegalArgumentException("data: missing or not a string");
        return fromMapInto(map, new Builder(model, d)).build();
    }

    private static Map<String, Object> stringKeys(Map<?, ?> m) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (var e : m.entrySet()) out.put(String.valueOf(e.getKey()), e.getValue());
        return out;
    }

    private static Builder fromMapInto(Map<String, ?> m, Builder b) {
        String p = "";
        if (m.containsKey("resolution")) b.resolution(ConfigKeys.optInt(m, "resolution", p));
        b.unconditional(ConfigKeys.bool(m, "unconditional", b.unconditional, p));
        if (m.containsKey("vae")) b.vae(ConfigKeys.optString(m, "vae", p));
        b.objective(ConfigKeys.string(m, "objective", b.objective, p));
        b.noiseSchedule(ConfigKeys.string(m, "noise_schedule", b.noiseSchedule, p));
        b.diffusionSteps(ConfigKeys.integer(m, "diffusion_steps", b.diffusionSteps, p));
        b.minSnrGamma(ConfigKeys.dbl(m, "min_snr_gamma", b.minSnrGamma, p));
        if (m.get("flow") != null) {
            if (!(m.get("flow") instanceof Map<?, ?> f)) throw new IllegalArgumentException("flow: must be an object");
            b.flow(FlowSettings.fromMap(f));
        }
        b.globalBatch(ConfigKeys.integer(m, "global_batch_size", b.globalBatch, p));
        if (m.containsKey("micro_batch_size")) b.microBatch(ConfigKeys.optInt(m, "micro_batch_size", p));
        b.steps(ConfigKeys.lng(m, "steps", b.steps, p));
        b.lr(ConfigKeys.dbl(m, "lr", b.lr, p));
        b.weightDecay(ConfigKeys.dbl(m, "weight_decay", b.weightDecay, p));
        if (m.get("betas") != null) {
            if (!(m.get("betas") instanceof List<?> l) || l.size() != 2 || !(l.get(0) instanceof Number b1) || !(l.get(1) instanceof Number b2)) {
                throw new IllegalArgumentException("betas: must be a list of two numbers");
            }
            b.betas(b1.doubleValue(), b2.doubleValue());
        }
        b.gradClip(ConfigKeys.dbl(m, "grad_clip", b.gradClip, p));
        b.warmupSteps(ConfigKeys.integer(m, "warmup_steps", b.warmupSteps, p));
        b.emaDecay(ConfigKeys.dbl(m, "ema_decay", b.emaDecay, p));
        b.emaWarmup(ConfigKeys.bool(m, "ema_warmup", b.emaWarmup, p));
        b.independentLabelDropout(ConfigKeys.bool(m, "independent_label_dropout", b.independentLabelDropout, p));
        b.seed(ConfigKeys.lng(m, "seed", b.seed, p));
        b.logEvery(ConfigKeys.integer(m, "log_every", b.logEvery, p));
        b.checkpointEvery(ConfigKeys.integer(m, "checkpoint_every", b.checkpointEvery, p));
        b.keepCheckpoints(ConfigKeys.integer(m, "keep_checkpoints", b.keepCheckpoints, p));
        b.sampleEvery(ConfigKeys.integer(m, "sample_every", b.sampleEvery, p));
        b.previewPerClass(ConfigKeys.integer(m, "preview_per_class", b.previewPerClass, p));
        if (m.get("preview_sampler") != null) b.previewSampler(ConfigKeys.string(m, "preview_sampler", null, p));
        b.previewSteps(ConfigKeys.integer(m, "preview_steps", b.previewSteps, p));
        b.previewCfgScale(ConfigKeys.dbl(m, "preview_cfg_scale", b.previewCfgScale, p));
        if (m.containsKey("clip_denoised")) b.clipDenoised(ConfigKeys.optBool(m, "clip_denoised", p));
        b.loaderWorkers(ConfigKeys.integer(m, "loader_workers", b.loaderWorkers, p));
        b.skipNonFinite(ConfigKeys.bool(m, "skip_nonfinite", b.skipNonFinite, p));
        b.checkpointActivations(ConfigKeys.bool(m, "checkpoint_activations", b.checkpointActivations, p));
        if (m.get("eval") != null) {
            if (!(m.get("eval") instanceof Map<?, ?> e)) throw new IllegalArgumentException("eval: must be an object");
            b.eval(EvalSettings.fromMap(e));
        }
        return b;
    }

    /**
     * The identity keys on which two configs disagree, as "key: mine -> theirs" (model fields one by one); empty when
     * {@code other} continues this run.
     */
    public List<String> identityDifferences(RunConfig other) {
        Map<String, Object> a = toMap(), b = other.toMap();
        List<String> out = new ArrayList<>();
        for (String k : IDENTITY_KEYS) {
            Object x = a.get(k), y = b.get(k);
            if (x instanceof Map<?, ?> mx && y instanceof Map<?, ?> my) {
                Set<Object> ks = new LinkedHashSet<>(mx.keySet());
                ks.addAll(my.keySet());
                for (Object kk : ks) {
                    if (!Objects.equals(String.valueOf(mx.get(kk)), String.valueOf(my.get(kk)))) {
                        out.add(k + "." + kk + ": " + mx.get(kk) + " -> " + my.get(kk));
                    }
                }
            } else if (!Objects.equals(String.valueOf(x), String.valueOf(y))) {
                out.add(k + ": " + x + " -> " + y);
            }
        }
        return out;
    }

    /** The other keys whose values differ, as key -> [old, new] (recorded in the log when a run resumes). */
    public Map<String, List<Object>> otherChanges(RunConfig other) {
        Map<String, Object> a = toMap(), b = other.toMap();
        Map<String, List<Object>> out = new LinkedHashMap<>();
        for (String k : a.keySet()) {
            if (IDENTITY_KEYS.contains(k) || Objects.equals(String.valueOf(a.get(k)), String.valueOf(b.get(k)))) continue;
            List<Object> pair = new ArrayList<>();
            pair.add(a.get(k));
            pair.add(b.get(k));
            out.put(k, pair);
        }
        return out;
    }

    /** Builds a {@link RunConfig} by name; every setting has the paper's default. */
    public static final class Builder {
        private ModelConfig model;
        private String data;
        private Integer resolution;
        private boolean unconditional;
        private String vae;
        private String objective = "ddpm";
        private String noiseSchedule = "linear";
        private int diffusionSteps = 1000;
        private double minSnrGamma;
        private FlowSettings flow = FlowSettings.defaults();
        private int globalBatch = 256;
        private Integer microBatch;
        private long steps = 400_000;
        private double lr = 1e-4;
        private double weightDecay;
        private double beta1 = 0.9;
        private double beta2 = 0.999;
        private double gradClip;
        private int warmupSteps;
        private double emaDecay = 0.9999;
        private boolean emaWarmup;
        private boolean independentLabelDropout;
        private long seed;
        private int logEvery = 100;
        private int checkpointEvery = 50_000;
        private int keepCheckpoints = 3;
        private int sampleEvery;
        private int previewPerClass = 2;
        private String previewSampler; // null: ddim for DDPM, heun2 for flow
        private int previewSteps = 50;
        private double previewCfgScale = 1.0;
        private Boolean clipDenoised;
        private int loaderWorkers;
        private boolean skipNonFinite;
        private boolean checkpointActivations;
        private EvalSettings eval = EvalSettings.defaults();

        static final Set<String> KEYS = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(
                new Builder(ModelConfigs.named("U-DiT-S"), "synthetic").build().toMap().keySet()));

        private Builder(ModelConfig model, String data) {
            this.model = model;
            this.data = data;
        }

        public Builder model(ModelConfig v) { model = v; return this; }
        public Builder data(String v) { data = v; return this; }
        public Builder resolution(Integer v) { resolution = v; return this; }
        public Builder unconditional(boolean v) { unconditional = v; return this; }
        public Builder vae(String v) { vae = v; return this; }
        public Builder objective(String v) { objective = v; return this; }
        public Builder noiseSchedule(String v) { noiseSchedule = v; return this; }
        public Builder diffusionSteps(int v) { diffusionSteps = v; return this; }
        public Builder minSnrGamma(double v) { minSnrGamma = v; return this; }
        public Builder flow(FlowSettings v) { flow = v; return this; }
        public Builder globalBatch(int v) { globalBatch = v; return this; }
        public Builder microBatch(Integer v) { microBatch = v; return this; }
        /** Global and micro batch together. */
        public Builder batch(int global, Integer micro) { globalBatch = global; microBatch = micro; return this; }
        public Builder steps(long v) { steps = v; return this; }
        public Builder lr(double v) { lr = v; return this; }
        public Builder weightDecay(double v) { weightDecay = v; return this; }
        public Builder betas(double b1, double b2) { beta1 = b1; beta2 = b2; return this; }
        public Builder gradClip(double v) { gradClip = v; return this; }
        public Builder warmupSteps(int v) { warmupSteps = v; return this; }
        public Builder emaDecay(double v) { emaDecay = v; return this; }
        public Builder emaWarmup(boolean v) { emaWarmup = v; return this; }
        public Builder independentLabelDropout(boolean v) { independentLabelDropout = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder logEvery(int v) { logEvery = v; return this; }
        public Builder checkpointEvery(int v) { checkpointEvery = v; return this; }
        public Builder keepCheckpoints(int v) { keepCheckpoints = v; return this; }
        public Builder sampleEvery(int v) { sampleEvery = v; return this; }
        public Builder previewPerClass(int v) { previewPerClass = v; return this; }
        /** The preview sampler; null = ddim for the DDPM objective, heun2 for flow matching. */
        public Builder previewSampler(String v) { previewSampler = v; return this; }
        public Builder previewSteps(int v) { previewSteps = v; return this; }
        public Builder previewCfgScale(double v) { previewCfgScale = v; return this; }
        public Builder clipDenoised(Boolean v) { clipDenoised = v; return this; }
        public Builder loaderWorkers(int v) { loaderWorkers = v; return this; }
        public Builder skipNonFinite(boolean v) { skipNonFinite = v; return this; }
        public Builder checkpointActivations(boolean v) { checkpointActivations = v; return this; }
        public Builder eval(EvalSettings v) { eval = v; return this; }

        public RunConfig build() {
            return new RunConfig(model, data, resolution, unconditional, vae, objective, noiseSchedule, diffusionSteps, minSnrGamma,
                    flow, globalBatch, microBatch, steps, lr, weightDecay, beta1, beta2, gradClip, warmupSteps, emaDecay, emaWarmup,
                    independentLabelDropout, seed, logEvery, checkpointEvery, keepCheckpoints, sampleEvery, previewPerClass,
                    previewSampler != null ? previewSampler : objective.equals("flow") ? "heun2" : "ddim", previewSteps, previewCfgScale,
                    clipDenoised, loaderWorkers, skipNonFinite, checkpointActivations, eval);
        }
    }
}
