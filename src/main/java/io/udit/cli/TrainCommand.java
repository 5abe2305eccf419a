package io.udit.cli;

import io.udit.data.Dataset;
import io.udit.data.Datasets;
import io.udit.dist.DistEnv;
import io.udit.dist.ProcessGroup;
import io.udit.engine.Engine;
import io.udit.model.ModelConfig;
import io.udit.model.UDiTConfig;
import io.udit.train.TrainConfig;
import io.udit.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** Trains a U-DiT or DiT with the paper's recipe (overridable), writing everything into a run folder. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a diffusion model. The run folder gets config.json, log.jsonl, loss.png, samples/ and checkpoints/.")
public final class TrainCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, paramLabel = "SPEC",
            description = "synthetic[:K], fashion-mnist[:DIR], an image folder (class sub-folders) or a latent feature folder.")
    String data;

    @Option(names = "--vae", paramLabel = "DIR",
            description = "Encode the images of --data with this diffusers VAE folder on the fly (a fresh posterior sample per read); "
                    + "the model trains on the latents. Pre-encoding with 'udit encode' is faster for more than one epoch.")
    Path vae;

    @Option(names = "--unconditional", description = "Ignore labels: one class.")
    boolean unconditional;

    @Option(names = "--resolution", description = "Data side length (default: the dataset's own; image folders 256).")
    Integer resolution;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--run-dir", paramLabel = "DIR", description = "Run folder (default runs/<timestamp>).")
    Path runDir;

    @Option(names = "--resume", description = "Continue from the newest valid checkpoint in --run-dir.")
    boolean resume;

    @Option(names = "--steps", defaultValue = "1000", description = "Optimizer steps (default ${DEFAULT-VALUE}).")
    long steps;

    @Option(names = "--batch", defaultValue = "32", description = "Global batch size (default ${DEFAULT-VALUE}; paper: 256).")
    int batch;

    @Option(names = "--micro-batch", description = "Samples per forward/backward; the rest is gradient accumulation (default: --batch).")
    Integer microBatch;

    @Option(names = "--lr", defaultValue = "1e-4", description = "AdamW learning rate (default ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--weight-decay", defaultValue = "0", description = "AdamW weight decay (default ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--grad-clip", defaultValue = "0", description = "Clip the gradient norm (0 = off, as the paper).")
    double gradClip;

    @Option(names = "--min-snr", defaultValue = "0", description = "Min-SNR-gamma loss weighting, e.g. 5 (0 = off, as the paper).")
    double minSnr;

    @Option(names = "--warmup", defaultValue = "0", description = "Linear learning-rate warm-up steps (0 = off, as the paper).")
    int warmup;

    @Option(names = "--noise-schedule", defaultValue = "linear", description = "linear (the paper), cosine, or cosine-shiftK: the cosine schedule with its SNR multiplied by K (for images smaller than 64x64).")
    String schedule;

    @Option(names = "--ema", defaultValue = "0.9999", description = "EMA decay (default ${DEFAULT-VALUE}).")
    double ema;

    @Option(names = "--ema-warmup", description = "EMA decay min(decay, (1+step)/(10+step)): useful EMA for short runs.")
    boolean emaWarmup;

    @Option(names = "--independent-label-dropout",
            description = "Drop labels independently in each U-DiT label embedder (the reference's behaviour); default: one draw per sample.")
    boolean independentDropout;

    @Option(names = "--seed", defaultValue = "0", description = "Seed for init, data order, noise (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--log-every", defaultValue = "50") int logEvery;
    @Option(names = "--checkpoint-every", defaultValue = "500") int checkpointEvery;
    @Option(names = "--keep", defaultValue = "3", description = "Checkpoints to keep (default ${DEFAULT-VALUE}).") int keep;
    @Option(names = "--sample-every", defaultValue = "500", description = "Preview grid every N steps (0 = never).") int sampleEvery;
    @Option(names = "--preview-sampler", defaultValue = "ddim") String previewSampler;
    @Option(names = "--preview-steps", defaultValue = "25") int previewSteps;
    @Option(names = "--preview-per-class", defaultValue = "4") int previewPerClass;
    @Option(names = "--workers", defaultValue = "0", description = "Data loader threads (0 = automatic).") int workers;
    @Option(names = "--skip-nonfinite", description = "Skip steps with a NaN/Inf loss or gradient instead of stopping.")
    boolean skipNonFinite;
    @Option(names = "--dist-timeout", defaultValue = "60",
            description = "Seconds a collective may wait for the other ranks (torchrun variables select distributed mode).")
    double distTimeout;

    @Override
    public Integer call() throws Exception {
        Engine.init();
        Dataset ds = openData(data, unconditional, resolution, seed);
        if (vae != null) {
            try {
                ds = new io.udit.vae.EncodedImages(ds, EncodeCommand.loadVae(vae));
            } catch (io.udit.data.DataException e) {
                throw new UserError("--vae: " + e.getMessage(), e);
            }
            if (workers == 0) workers = 1; // each read runs the encoder, itself multi-threaded: one loader thread
        }
        ModelConfig model = fitModelToData(modelOptions, ds);
        TrainConfig cfg = trainConfig(model, ds);
        Path dir = runDir != null ? runDir : Path.of("runs", java.time.LocalDateTime.now().format(
                java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        System.err.println("data: " + ds.describe());
        System.err.println("model: " + model.toMap());
        System.err.println("run folder: " + dir.toAbsolutePath());
        DistEnv env;
        try {
            env = DistEnv.fromEnvironment(System.getenv(), (long) (distTimeout * 1000));
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage(), e);
        }
        Trainer trainer = new Trainer(cfg, ds, dir, resume, null).skipNonFiniteSteps(skipNonFinite);
        installSignalHandlers(trainer);
        Trainer.Result r;
        if (env.isDistributed()) {
            try (ProcessGroup pg = joinGroup(env)) {
                System.err.println("rank " + env.rank() + " of " + env.worldSize() + " joined " + env.masterAddr() + ":" + env.masterPort());
                r = trainer.withProcessGroup(pg).run();
            }
        } else {
            r = trainer.run();
        }
        if (env.isMain()) System.out.println("trained to step " + r.finalStep() + "; last checkpoint " + r.lastCheckpoint());
        String signal = signalReceived.get();
        if (signal != null) {
            System.err.println("stopped by SIG" + signal + " at step " + r.finalStep() + " with a final checkpoint; --resume continues");
            return signal.equals("INT") ? 130 : 143;
        }
        return 0;
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

    static ProcessGroup joinGroup(DistEnv env) {
        try {
            return ProcessGroup.join(env);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage(), e);
        }
    }

    TrainConfig trainConfig(ModelConfig model, Dataset ds) {
        try {
            // by default each rank's share of the global batch is one micro-batch (no accumulation)
            String ws = System.getenv("WORLD_SIZE");
            int world = ws != null && ws.matches("\\d{1,6}") && Integer.parseInt(ws) > 0 ? Integer.parseInt(ws) : 1;
            int micro = microBatch != null ? microBatch : batch % world == 0 ? batch / world : batch;
            return new TrainConfig(model, batch, micro, steps, lr, weightDecay, 0.9, 0.999,
                    ema, emaWarmup, independentDropout, seed, logEvery, checkpointEvery, keep, sampleEvery, previewPerClass,
                    previewSampler, previewSteps, 1.0, schedule, 1000, ds.isImage(), workers, gradClip, warmup, minSnr);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage(), e);
        }
    }

    static Dataset openData(String spec, boolean unconditional, Integer resolution, long seed) {
        try {
            Datasets.Options o = new Datasets.Options().unconditional(unconditional);
            if (resolution != null) o.resolution(resolution);
            return Datasets.open(spec, o);
        } catch (RuntimeException e) {
            throw new UserError("cannot open data '" + spec + "': " + e.getMessage(), e);
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
