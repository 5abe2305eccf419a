package io.udit.cli;

import io.udit.data.Dataset;
import io.udit.data.Datasets;
import io.udit.dist.DistEnv;
import io.udit.dist.ProcessGroup;
import io.udit.engine.Engine;
import io.udit.model.ModelConfig;
import io.udit.train.RunConfig;
import io.udit.train.RunFolder;
import io.udit.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Trains a U-DiT or DiT into a run folder. The run's settings come from (later wins): the defaults, the run config
 * ({@code --config} run file, or the folder's own {@code config.json} with {@code --resume}), then the flags given.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a diffusion model. The run folder gets config.json (every setting of the run), log.jsonl, loss.png,"
                + " samples/ and checkpoints/; one trainer owns a folder at a time.",
        footer = {"", "Examples:", "  udit train --data synthetic --steps 50",
                "  udit train --data fashion-mnist --model U-DiT-S --batch 64 --run-dir runs/fm",
                "  udit train --run-dir runs/fm --resume --steps 20000      (continue with the folder's own config)",
                "  udit train --config runs/fm/config.json --run-dir runs/fm2 (the same run again)"})
public final class TrainCommand implements Callable<Integer> {
    @Option(names = "--data", paramLabel = "SPEC",
            description = "synthetic[:K], fashion-mnist[:DIR], an image folder (class sub-folders) or a latent feature folder"
                    + " (no default: required unless the run config names it).")
    String data;

    @Option(names = "--vae", paramLabel = "DIR",
            description = "Encode the images of --data with this diffusers VAE folder on the fly (a fresh posterior sample per read); "
                    + "the model trains on the latents. Pre-encoding with 'udit encode' is faster for more than one epoch (default: none).")
    Path vae;

    @Option(names = "--unconditional", description = "Ignore labels: one class.")
    Boolean unconditional;

    @Option(names = "--resolution", paramLabel = "N", description = "Data side length (default: the dataset's own; image folders 256).")
    Integer resolution;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--run-dir", paramLabel = "DIR", description = "Run folder (default runs/<model>-<data>-<timestamp>).")
    Path runDir;

    @Option(names = "--resume", description = "Continue the run in --run-dir from its newest valid checkpoint, with the folder's"
            + " config.json; flags may change steps, cadences and threads, not the model, data, objective, seed or batch.")
    boolean resume;

    @Option(names = "--overwrite", description = "Start a new run in a --run-dir that holds one: the old run is moved aside"
            + " to <run-dir>.replaced-<time> (nothing is deleted).")
    boolean overwrite;

    @Option(names = "--steps", paramLabel = "N", description = "Optimizer steps in total (default " + CliDefaults.STEPS + ").")
    Long steps;

    @Option(names = "--batch", paramLabel = "N", description = "Global batch size (default " + CliDefaults.BATCH + "; paper: 256).")
    Integer batch;

    @Option(names = "--micro-batch", paramLabel = "N",
            description = "Samples per forward/backward; the rest is gradient accumulation (default: this process's share of --batch).")
    Integer microBatch;

    @Option(names = "--lr", paramLabel = "X", description = "AdamW learning rate (default 1e-4).")
    Double lr;

    @Option(names = "--weight-decay", paramLabel = "X", description = "AdamW weight decay (default 0).")
    Double weightDecay;

    @Option(names = "--grad-clip", paramLabel = "X", description = "Clip the gradient norm (default 0 = off, as the paper).")
    Double gradClip;

    @Option(names = "--min-snr", paramLabel = "GAMMA", description = "Min-SNR-gamma loss weighting, e.g. 5 (default 0 = off, as the paper).")
    Double minSnr;

    @Option(names = "--warmup", paramLabel = "N", description = "Linear learning-rate warm-up steps (default 0 = off, as the paper).")
    Integer warmup;

    @Option(names = "--noise-schedule", paramLabel = "NAME", description = "linear (default, the paper), cosine, or cosine-shiftK:"
            + " the cosine schedule with its SNR multiplied by K (for images smaller than 64x64).")
    String schedule;

    @Option(names = "--objective", paramLabel = "NAME", description = "ddpm (default: the paper's noise prediction with the hybrid"
            + " loss) or flow (flow matching as SiT: the network predicts one field, learn_sigma off).")
    String objective;

    @Option(names = "--flow-path", paramLabel = "NAME", description = "Flow matching: the interpolant, linear (default), gvp or vp.")
    String flowPath;

    @Option(names = "--flow-prediction", paramLabel = "NAME", description = "Flow matching: what the network predicts, velocity (default), noise or score.")
    String flowPrediction;

    @Option(names = "--flow-loss-weight", paramLabel = "NAME", description = "Flow matching: none (default), velocity or likelihood (noise and score predictions).")
    String flowLossWeight;

    @Option(names = "--timesteps", paramLabel = "uniform|logit-normal[:LOC:SCALE]",
            description = "Flow matching: how training draws t, uniform (default, SiT) or logit-normal (default location 0, scale 1).")
    String timesteps;

    @Option(names = "--ema", paramLabel = "DECAY", description = "EMA decay (default 0.9999).")
    Double ema;

    @Option(names = "--ema-warmup", description = "EMA decay min(decay, (1+step)/(10+step)): useful EMA for short runs.")
    Boolean emaWarmup;

    @Option(names = "--independent-label-dropout",
            description = "Drop labels independently in each U-DiT label embedder (the reference's behaviour); default: one draw per sample.")
    Boolean independentDropout;

    @Option(names = "--seed", paramLabel = "N", description = "Seed for the initial weights, data order and noise (default 0).")
    Long seed;

    @Option(names = "--log-every", paramLabel = "N", description = "A log.jsonl line (means since the last line) every N steps (default " + CliDefaults.LOG_EVERY + ").")
    Integer logEvery;

    @Option(names = "--checkpoint-every", paramLabel = "N", description = "A checkpoint every N steps, and at the end (default " + CliDefaults.CHECKPOINT_EVERY + "; 0 = only at the end).")
    Integer checkpointEvery;

    @Option(names = "--keep", paramLabel = "N", description = "Checkpoints to keep (default 3).")
    Integer keep;

    @Option(names = "--sample-every", paramLabel = "N", description = "A preview grid every N steps (default " + CliDefaults.SAMPLE_EVERY + "; 0 = never).")
    Integer sampleEvery;

    @Option(names = "--preview-sampler", paramLabel = "NAME", description = "Sampler of the preview grids: ddim, ddpm, dpm++ or dpm++sde (default ddim).")
    String previewSampler;

    @Option(names = "--preview-steps", paramLabel = "N", description = "Sampler steps of the preview grids (default " + CliDefaults.PREVIEW_STEPS + ").")
    Integer previewSteps;

    @Option(names = "--preview-per-class", paramLabel = "N", description = "Preview images per class (default " + CliDefaults.PREVIEW_PER_CLASS + ").")
    Integer previewPerClass;

    @Option(names = "--eval-every", paramLabel = "N", description = "Evaluate the EMA model every N steps and at the end: sample"
            + " --eval-per-class images of every class from fixed noise, score them (a judge classifier trained on the data:"
            + " Fréchet distance and class fidelity; with --inception and --eval-ref also FID, sFID, IS, precision and recall),"
            + " log the figures to log.jsonl and TensorBoard and keep checkpoints/best.pt (default 0 = never).")
    Integer evalEvery;

    @Option(names = "--eval-per-class", paramLabel = "N", description = "Evaluation images of every class (default 10).")
    Integer evalPerClass;

    @Option(names = "--eval-sampler", paramLabel = "NAME", description = "Evaluation sampler (default dpm++sde for the ddpm"
            + " objective, heun2 for flow).")
    String evalSampler;

    @Option(names = "--eval-steps", paramLabel = "N", description = "Evaluation sampler steps (default 25).")
    Integer evalSteps;

    @Option(names = "--eval-cfg-scale", paramLabel = "X", description = "Evaluation guidance scale (default 4).")
    Double evalCfgScale;

    @Option(names = "--eval-metric", paramLabel = "NAME", description = "The metric that picks checkpoints/best.pt:"
            + " frechet_distance, fidelity, fid, sfid, inception_score, precision or recall (default frechet_distance;"
            + " fid with --inception).")
    String evalMetric;

    @Option(names = "--inception", paramLabel = "FILE", description = "pytorch-fid Inception weights"
            + " (pt_inception-2015-12-05-6726825d.pth) for the FID family of evaluation metrics; needs --eval-ref (default: none).")
    Path inception;

    @Option(names = "--eval-ref", paramLabel = "REF.npz", description = "ADM reference batch (uint8 images in arr_0) the"
            + " evaluation's Inception metrics compare with, e.g. VIRTUAL_imagenet256_labeled.npz of the ADM release (default: none).")
    Path evalRef;

    @Option(names = "--workers", paramLabel = "N", description = "Data loader threads (default 0 = automatic).")
    Integer workers;

    @Option(names = "--skip-nonfinite", description = "Skip steps with a NaN/Inf loss or gradient instead of stopping.")
    Boolean skipNonFinite;

    @Option(names = "--checkpoint-activations", description = "Recompute each block's activations during the backward pass instead"
            + " of keeping them: less memory, the same losses and gradients, more time per step. Unless gradients are"
            + " clipped, accumulated, averaged over ranks or non-finite steps skipped, AdamW also updates each block as"
            + " soon as its gradients are complete, so a step never holds all gradients at once.")
    Boolean checkpointActivations;

    @Option(names = "--dist-timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "Seconds a collective may wait for the other ranks (default ${DEFAULT-VALUE}; torchrun variables select distributed mode).")
    double distTimeout;

    /** The command line's own defaults where they differ from the paper's recipe (a short run you can watch). */
    static final class CliDefaults {
        static final long STEPS = 1000;
        static final int BATCH = 32, LOG_EVERY = 50, CHECKPOINT_EVERY = 500, SAMPLE_EVERY = 500, PREVIEW_STEPS = 25, PREVIEW_PER_CLASS = 4;

        private CliDefaults() {}
    }

    @Override
    public Integer call() throws Exception {
        Engine.init();
        if (resume && overwrite) throw new UserError("--resume and --overwrite exclude each other");
        if (!(distTimeout > 0 && distTimeout <= 86_400)) throw new UserError("--dist-timeout must be in (0, 86400] seconds, got " + distTimeout);
        DistEnv env = Distributed.environment((long) (distTimeout * 1000));
        RunFolder.Start start = resume ? RunFolder.Start.RESUME : overwrite ? RunFolder.Start.OVERWRITE : RunFolder.Start.NEW;
        // a run to resume is ours before its config is read (the trainer closes it); a new run's folder is made only
        // once every setting has been checked
        RunFolder folder = resume && runDir != null && Files.isDirectory(runDir) && env.isMain() ? RunFolder.open(runDir, start) : null;
        Trainer trainer;
        try {
            trainer = prepare(start, env);
            if (folder != null) trainer.withRunFolder(folder);
        } catch (RuntimeException | IOException e) {
            if (folder != null) folder.close();
            throw e;
        }
        installSignalHandlers(trainer);
        Trainer.Result r;
        if (env.isDistributed()) {
            try (ProcessGroup pg = Distributed.joinGroup(env)) {
                System.err.println("rank " + env.rank() + " of " + env.worldSize() + " joined " + env.masterAddr() + ":" + env.masterPort());
                r = trainer.withProcessGroup(pg).run();
            }
        } else {
            r = trainer.run();
        }
        if (env.isMain()) {
            System.out.println("trained to step " + r.finalStep() + "; last checkpoint "
                    + (r.lastCheckpoint() == null ? "(none)" : r.lastCheckpoint().toAbsolutePath()));
        }
        String signal = signalReceived.get();
        if (signal != null) {
            System.err.println("stopped by SIG" + signal + " at step " + r.finalStep() + " with a final checkpoint; --resume continues");
            return signal.equals("INT") ? 130 : 143;
        }
        return 0;
    }

    /** The run config from defaults, run file or saved config, and flags; the data; the trainer. */
    private Trainer prepare(RunFolder.Start start, DistEnv env) throws IOException {
        Checks.inRange("--resolution", resolution, 1, 1 << 14);
        if (runDir != null && env.isMain()) RunFolder.check(runDir, start); // before the data is opened or a model built
        RunConfig base = baseConfig();
        String dataSpec = data != null ? data : base != null ? base.data() : null;
        if (dataSpec == null) {
            throw new UserError("missing --data SPEC (synthetic[:K], fashion-mnist[:DIR], a folder)"
                    + (resume ? "; " + runDir + " has no config.json to resume from" : ""));
        }
        Integer res = resolution != null ? resolution : base != null ? base.resolution() : null;
        boolean uncond = unconditional != null ? unconditional : base != null && base.unconditional();
        String vaeDir = vae != null ? vae.toString() : base != null ? base.vae() : null;
        Dataset ds = openData(dataSpec, uncond, res);
        readFirstSample(ds);
        if (vaeDir != null) {
            try {
                ds = new io.udit.vae.EncodedImages(ds, VaeFolders.load(Path.of(vaeDir)));
            } catch (io.udit.data.DataException e) {
                throw new UserError("--vae: " + e.getMessage(), e);
            }
        }
        ModelConfig model = base != null && !modelOptions.isSet() ? modelOptions.withOverrides(base.model()) : fitModelToData(modelOptions, ds);
        String objectiveName = objective != null ? objective : base != null ? base.objective() : "ddpm";
        if (objectiveName.equals("flow") && model.learnSigma() && modelOptions.config == null && modelOptions.learnSigma == null
                && (base == null || modelOptions.isSet())) {
            model = model.withLearnSigma(false); // a flow model predicts one field
        }
        RunConfig cfg = runConfig(base, model, dataSpec, res, uncond, vaeDir);
        Path dir = runDir != null ? runDir : RunDirs.defaultFor(model, dataSpec);
        Trainer trainer;
        try {
            trainer = new Trainer(cfg, ds, dir, start, null);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage(), e);
        }
        if (env.isMain()) { // once every setting is known to fit
            System.err.println("data: " + ds.describe());
            System.err.println("model: " + io.udit.io.Json.write(model.toMap()));
            System.err.println("run folder: " + dir.toAbsolutePath());
        }
        return trainer;
    }

    /** The run config the flags apply to: a --config run file, else with --resume the folder's config.json, else none. */
    private RunConfig baseConfig() {
        if (modelOptions.config != null) {
            Map<String, Object> m = ModelOptions.readJson(modelOptions.config, "--config");
            if (isRunConfig(m)) {
                try {
                    RunConfig c = RunConfig.fromMap(m);
                    modelOptions.config = null; // the file was a run config, not a model config
                    return c;
                } catch (IllegalArgumentException e) {
                    throw new UserError(modelOptions.config + ": " + e.getMessage(), e);
                }
            }
        }
        if (!resume || runDir == null) return null;
        Path saved = runDir.resolve("config.json");
        if (!Files.isRegularFile(saved)) return null;
        try {
            return RunConfig.fromMap(ModelOptions.readJson(saved, "--resume"));
        } catch (IllegalArgumentException e) {
            throw new UserError(saved + ": " + e.getMessage(), e);
        }
    }

    /** A run config holds the model as an object, or names the data; a model config holds the model's own keys. */
    static boolean isRunConfig(Map<String, Object> m) {
        return m.get("model") instanceof Map<?, ?> || m.containsKey("data");
    }

    RunConfig runConfig(RunConfig base, ModelConfig model, String dataSpec, Integer res, boolean uncond, String vaeDir) {
        RunConfig.Builder b;
        if (base != null) {
            b = base.toBuilder();
        } else {
            b = RunConfig.builder(model, dataSpec).globalBatch(CliDefaults.BATCH).steps(CliDefaults.STEPS).logEvery(CliDefaults.LOG_EVERY)
                    .checkpointEvery(CliDefaults.CHECKPOINT_EVERY).sampleEvery(CliDefaults.SAMPLE_EVERY)
                    .previewSteps(CliDefaults.PREVIEW_STEPS).previewPerClass(CliDefaults.PREVIEW_PER_CLASS);
        }
        b.model(model).data(dataSpec).resolution(res).unconditional(uncond).vae(vaeDir);
        if (steps != null) b.steps(steps);
        if (batch != null) b.globalBatch(batch);
        if (microBatch != null) b.microBatch(microBatch);
        if (lr != null) b.lr(lr);
        if (weightDecay != null) b.weightDecay(weightDecay);
        if (gradClip != null) b.gradClip(gradClip);
        if (minSnr != null) b.minSnrGamma(minSnr);
        if (warmup != null) b.warmupSteps(warmup);
        if (schedule != null) b.noiseSchedule(schedule);
        if (ema != null) b.emaDecay(ema);
        if (emaWarmup != null) b.emaWarmup(emaWarmup);
        if (independentDropout != null) b.independentLabelDropout(independentDropout);
        if (seed != null) b.seed(seed);
        if (objective != null) b.objective(objective);
        if (flowPath != null || flowPrediction != null || flowLossWeight != null || timesteps != null) {
            b.flow(flowSettings(base != null ? base.flow() : RunConfig.FlowSettings.defaults()));
        }
        if (logEvery != null) b.logEvery(logEvery);
        if (checkpointEvery != null) b.checkpointEvery(checkpointEvery);
        if (keep != null) b.keepCheckpoints(keep);
        if (sampleEvery != null) b.sampleEvery(sampleEvery);
        if (previewSampler != null) b.previewSampler(previewSampler);
        if (previewSteps != null) b.previewSteps(previewSteps);
        if (previewPerClass != null) b.previewPerClass(previewPerClass);
        if (workers != null) b.loaderWorkers(workers);
        if (skipNonFinite != null) b.skipNonFinite(skipNonFinite);
        if (checkpointActivations != null) b.checkpointActivations(checkpointActivations);
        if (evalEvery != null || evalPerClass != null || evalSampler != null || evalSteps != null || evalCfgScale != null
                || evalMetric != null || inception != null || evalRef != null) {
            b.eval(evalSettings(base != null ? base.eval() : RunConfig.EvalSettings.defaults()));
        }
        // each read runs the encoder, itself multi-threaded: one loader thread unless asked otherwise
        if (vaeDir != null && workers == null && (base == null || base.loaderWorkers() == 0)) b.loaderWorkers(1);
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new UserError(optionNamed(e.getMessage()), e);
        }
    }

    private RunConfig.EvalSettings evalSettings(RunConfig.EvalSettings e) {
        Checks.regularFile("--inception", inception);
        Checks.regularFile("--eval-ref", evalRef);
        // a new --inception without a metric picks fid, as the default does
        String metric = evalMetric != null ? evalMetric : inception != null && e.inception() == null ? null : e.metric();
        try {
            return new RunConfig.EvalSettings(evalEvery != null ? evalEvery : e.every(), evalPerClass != null ? evalPerClass : e.perClass(),
                    evalSampler != null ? evalSampler : e.sampler(), evalSteps != null ? evalSteps : e.steps(),
                    evalCfgScale != null ? evalCfgScale : e.cfgScale(), e.seed(), metric,
                    inception != null ? inception.toString() : e.inception(), evalRef != null ? evalRef.toString() : e.reference(),
                    e.judgeEpochs(), e.judgeSamples());
        } catch (IllegalArgumentException ex) {
            throw new UserError(optionNamed(ex.getMessage()), ex);
        }
    }

    private RunConfig.FlowSettings flowSettings(RunConfig.FlowSettings f) {
        String sampling = f.timestepSampling();
        double loc = f.logitNormalLocation(), scale = f.logitNormalScale();
        if (timesteps != null) {
            String[] parts = timesteps.split(":", -1);
            sampling = parts[0];
            if (parts.length != 1 && !(parts.length == 3 && sampling.equals("logit-normal"))) {
                throw new UserError("--timesteps must be uniform, logit-normal or logit-normal:LOC:SCALE, got " + timesteps);
            }
            if (parts.length == 3) {
                loc = finiteNumber("--timesteps location", parts[1]);
                scale = finiteNumber("--timesteps scale", parts[2]);
            }
        }
        try {
            return new RunConfig.FlowSettings(flowPath != null ? flowPath : f.path(), flowPrediction != null ? flowPrediction : f.prediction(),
                    flowLossWeight != null ? flowLossWeight : f.lossWeight(), f.trainEps(), f.sampleEps(), sampling, loc, scale);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage().replace("flow.path", "--flow-path").replace("flow.prediction", "--flow-prediction")
                    .replace("flow.loss_weight", "--flow-loss-weight").replace("flow.timestep_sampling", "--timesteps")
                    .replace("flow.logit_normal_", "--timesteps "), e);
        }
    }

    private static double finiteNumber(String what, String text) {
        try {
            double v = Double.parseDouble(text);
            if (Double.isFinite(v)) return v;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UserError(what + " must be a finite number, got '" + text + "'");
    }

    /** Run-config keys and the flags that set them, so a bad value is reported under the name the user typed. */
    private static final Map<String, String> FLAG_OF_KEY = Map.ofEntries(Map.entry("global_batch_size", "--batch"),
            Map.entry("micro_batch_size", "--micro-batch"), Map.entry("steps", "--steps"), Map.entry("lr", "--lr"),
            Map.entry("weight_decay", "--weight-decay"), Map.entry("grad_clip", "--grad-clip"), Map.entry("min_snr_gamma", "--min-snr"),
            Map.entry("warmup_steps", "--warmup"), Map.entry("noise_schedule", "--noise-schedule"), Map.entry("ema_decay", "--ema"),
            Map.entry("log_every", "--log-every"), Map.entry("checkpoint_every", "--checkpoint-every"), Map.entry("keep_checkpoints", "--keep"),
            Map.entry("sample_every", "--sample-every"), Map.entry("preview_sampler", "--preview-sampler"),
            Map.entry("preview_steps", "--preview-steps"), Map.entry("preview_per_class", "--preview-per-class"),
            Map.entry("loader_workers", "--workers"), Map.entry("resolution", "--resolution"), Map.entry("seed", "--seed"),
            Map.entry("objective", "--objective"), Map.entry("eval.every", "--eval-every"),
            Map.entry("eval.per_class", "--eval-per-class"), Map.entry("eval.sampler", "--eval-sampler"),
            Map.entry("eval.steps", "--eval-steps"), Map.entry("eval.cfg_scale", "--eval-cfg-scale"),
            Map.entry("eval.metric", "--eval-metric"), Map.entry("eval.inception", "--inception"));

    private static String optionNamed(String message) {
        for (var e : FLAG_OF_KEY.entrySet()) {
            if (message.startsWith(e.getKey() + " ") || message.startsWith(e.getKey() + ":")) return e.getValue() + " (" + message + ")";
        }
        return message;
    }

    private final java.util.concurrent.atomic.AtomicReference<String> signalReceived = new java.util.concurrent.atomic.AtomicReference<>();

    /**
     * SIGINT / SIGTERM: finish the current step, write a checkpoint, exit (130 / 143). A second signal exits at once;
     * the last checkpoint on disk stays intact because every write is atomic.
     */
    private void installSignalHandlers(Trainer trainer) {
        if (!Boolean.getBoolean(Main.STANDALONE)) return; // embedded (tests, applications): leave the host's handlers alone
        sun.misc.SignalHandler handler = sig -> {
            if (signalReceived.compareAndSet(null, sig.getName())) {
                System.err.println("\nudit: SIG" + sig.getName() + " received: finishing this step and writing a checkpoint"
                        + " (send it again to stop at once)");
                trainer.requestStop();
            } else {
                System.err.println("udit: second signal: stopping now");
                Runtime.getRuntime().halt(sig.getName().equals("INT") ? 130 : 143);
            }
        };
        for (String name : new String[] {"INT", "TERM"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), handler);
            } catch (IllegalArgumentException e) {
                // signal not available on this platform
            }
        }
    }

    static Dataset openData(String spec, boolean unconditional, Integer resolution) {
        try {
            Datasets.Options o = new Datasets.Options().unconditional(unconditional);
            if (resolution != null) o.resolution(resolution);
            return Datasets.open(spec, o);
        } catch (RuntimeException e) {
            throw new UserError("cannot open data '" + spec + "': " + e.getMessage(), e);
        }
    }

    /**
     * Reads the data's first sample, so that data which cannot be read at all (images smaller than the crop, a damaged
     * file) fails with one line before the run folder is made, not at the first batch.
     */
    static void readFirstSample(Dataset ds) {
        if (ds.size() == 0) return;
        try {
            ds.read(0, new float[ds.sampleSize()], new java.util.SplittableRandom(0));
        } catch (io.udit.data.DataException e) {
            throw new UserError("--data: " + e.getMessage(), e);
        }
    }

    /**
     * The model for this data: a named config takes the data's size, channels and class count; a config file must
     * already agree (we do not silently change a file the user wrote). Without either, U-DiT-S fitted to the data.
     */
    static ModelConfig fitModelToData(ModelOptions options, Dataset ds) {
        ModelConfig m = options.resolveOrNull();
        boolean fromFile = options.config != null;
        if (m == null) m = io.udit.model.ModelConfigs.named("U-DiT-S");
        if (fromFile) return m;
        try {
            if (options.inputSize == null) m = m.withInputSize(ds.resolution());
            if (options.inChannels == null) m = m.withInChannels(ds.channels());
            if (options.numClasses == null) m = m.withNumClasses(ds.numClasses());
            return m;
        } catch (IllegalArgumentException e) {
            throw new UserError("the model does not fit the data (" + ds.describe() + "): " + e.getMessage(), e);
        }
    }
}
