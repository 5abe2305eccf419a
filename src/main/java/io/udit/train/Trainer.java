package io.udit.train;

import io.udit.data.BatchLoader;
import io.udit.data.Dataset;
import io.udit.diffusion.DenoiserFn;
import io.udit.dist.ProcessGroup;
import io.udit.diffusion.GaussianDiffusion;
import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.io.AtomicFiles;
import io.udit.io.Json;
import io.udit.model.Backbone;
import io.udit.model.Form;
import io.udit.model.UDiT;
import io.udit.report.LinePlot;
import io.udit.report.ProgressBar;
import io.udit.sample.Previews;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The training loop, in one place: sample t and noise, drop labels for classifier-free guidance, hybrid loss,
 * AdamW, EMA; checkpoints, JSONL log, loss curve and preview grids in the run folder. Everything random is derived
 * from (seed, step), and the data order from (seed, sample position), so a resumed run repeats an uninterrupted one.
 */
public final class Trainer {
    /** Called after every optimizer step (for embedding applications and tests). */
    @FunctionalInterface
    public interface Listener {
        Listener NONE = s -> {};

        void onStep(StepStats stats);
    }

    public record StepStats(long step, long totalSteps, double loss, double mse, double vb, double gradNorm, double lr,
                            double stepsPerSecond,
                            double dataWaitSeconds, long rssBytes, double allreduceSeconds) {}

    public record Result(long finalStep, Path lastCheckpoint, List<Double> losses, Backbone model, Backbone ema) {}

    private final TrainConfig config;
    private final Dataset data;
    private final Path runDir;
    private final boolean resume;
    private final Listener listener;
    private volatile long deadlineNanos = Long.MAX_VALUE;
    private long budgetNanos;
    private double cooldownFraction;
    private ProcessGroup group;
    private volatile boolean skipNonFinite;
    private long skippedSteps;
    private volatile boolean stopRequested;

    public Trainer(TrainConfig config, Dataset data, Path runDir, boolean resume, Listener listener) {
        this.config = config;
        this.data = data;
        this.runDir = runDir;
        this.resume = resume;
        this.listener = listener == null ? Listener.NONE : listener;
        checkDataMatchesModel();
    }

    /** Stops after the step that crosses this wall-clock budget (checkpointing and previewing as for the last step). */
    public Trainer withTimeBudget(java.time.Duration budget) {
        return withTimeBudget(budget, 0);
    }

    /**
     * A wall-clock budget whose last {@code cooldownFraction} of time lowers the learning rate linearly to zero (a
     * warm-up-stable-decay schedule for runs bounded by time, not steps: the step count is unknown in advance).
     */
    public Trainer withTimeBudget(java.time.Duration budget, double cooldownFraction) {
        if (!(cooldownFraction >= 0 && cooldownFraction <= 1))
            throw new IllegalArgumentException("cool-down fraction must be in [0, 1], got " + cooldownFraction);
        this.budgetNanos = budget.toNanos();
        this.deadlineNanos = System.nanoTime() + budgetNanos;
        this.cooldownFraction = cooldownFraction;
        return this;
    }

    /** The learning-rate factor of the time cool-down now: 1 until the cool-down starts, then linear to 0. */
    private double cooldownFactor() {
        if (cooldownFraction <= 0 || budgetNanos <= 0) return 1;
        double left = (deadlineNanos - System.nanoTime()) / (double) budgetNanos; // share of the budget still ahead
        return Math.max(0, Math.min(1, left / cooldownFraction));
    }

    /** Skip (do not apply) steps whose loss or gradient is NaN/Inf instead of stopping the run. */
    public Trainer skipNonFiniteSteps(boolean skip) {
        this.skipNonFinite = skip;
        return this;
    }

    /** Steps skipped because of a non-finite loss or gradient. */
    public long skippedSteps() {
        return skippedSteps;
    }

    /** Asks the loop to stop after the current step, writing a final checkpoint (e.g. on SIGTERM). */
    public void requestStop() {
        stopRequested = true;
    }

    private void checkDataMatchesModel() {
        var m = config.model();
        List<String> problems = new ArrayList<>();
        if (m.inChannels() != data.channels()) problems.add("model takes " + m.inChannels() + " channels, data has " + data.channels());
        if (m.inputSize() != data.resolution()) problems.add("model input size " + m.inputSize() + ", data resolution " + data.resolution());
        if (m.numClasses() < data.numClasses()) problems.add("model has " + m.numClasses() + " classes, data " + data.numClasses());
        if (!problems.isEmpty()) throw new IllegalArgumentException("model and data do not fit: " + String.join("; ", problems));
    }

    /** Runs as one rank of a data-parallel job (gradients averaged over the group; rank 0 writes all files). */
    public Trainer withProcessGroup(ProcessGroup group) {
        this.group = group;
        return this;
    }

    public Result run() throws IOException {
        Engine.init();
        int rank = group == null ? 0 : group.rank(), world = group == null ? 1 : group.worldSize();
        boolean main = rank == 0;
        int micro = config.microBatch();
        if (config.globalBatch() % (micro * world) != 0) {
            throw new IllegalArgumentException("global batch " + config.globalBatch() + " is not a multiple of micro batch "
                    + micro + " x world size " + world);
        }
        int accum = config.globalBatch() / (micro * world);
        if (group != null) group.checkSameConfig(Json.write(checkpointArgs()));

        Path ckptDir = runDir.resolve("checkpoints");
        if (main) {
            Files.createDirectories(ckptDir);
            Files.createDirectories(runDir.resolve("samples"));
        }
        Backbone model = config.model().build(config.seed());
        model.setForm(Form.TRAIN);
        List<Tensor> params = model.trainableParameters();
        if (group != null) for (Tensor t : model.stateDict().values()) broadcastParameter(t); // identical start everywhere
        Ema ema = new Ema(model);
        AdamWOptions opts = new AdamWOptions(config.lr());
        setBetas(opts, config.beta1(), config.beta2());
        opts.weight_decay().put(config.weightDecay());
        TensorVector paramVector = new TensorVector(params.toArray(new Tensor[0]));
        AdamW optimizer = new AdamW(paramVector, opts);

        long step = 0;
        Path lastCheckpoint = null;
        if (resume) {
            Path chosen = main ? newestValidCheckpoint(ckptDir, model, ema, optimizer) : null;
            long chosenStep = chosen == null ? 0 : TrainingCheckpoint.stepOf(chosen);
            if (group != null) chosenStep = agree(chosenStep);   // every rank resumes from rank 0's choice
            if (chosenStep > 0) {
                lastCheckpoint = TrainingCheckpoint.fileFor(ckptDir, chosenStep);
                if (!main) TrainingCheckpoint.load(lastCheckpoint, model, ema.model(), optimizer);
                step = chosenStep;
            } else if (main) {
                System.err.println("no valid checkpoint in " + ckptDir + "; starting from step 0");
            }
        }
        RunHistory history = main ? RunHistory.load(runDir.resolve("log.jsonl"), step) : null;
        if (main) writeConfig();

        GaussianDiffusion diffusion = GaussianDiffusion.create("", new GaussianDiffusion.Options(
                config.noiseSchedule(), config.diffusionSteps(), false, false, false));
        long[] xShape = {micro, data.channels(), data.resolution(), data.resolution()};
        List<Double> losses = new ArrayList<>();
        Tensor snrWeights = config.minSnrGamma() > 0 ? minSnrWeights(diffusion, config.minSnrGamma()) : null;

        try (BatchLoader loader = BatchLoader.builder(data, micro).seed(config.seed())
                .startPosition(step * config.globalBatch()).shard(rank, world)
                .workers(config.loaderWorkers() > 0 ? config.loaderWorkers() : BatchLoader.defaultWorkers()).build();
             ProgressBar bar = main ? new ProgressBar("train", config.steps(), step).withDeadline(deadlineNanos) : null) {
            long windowStart = System.nanoTime(), windowSteps = 0, waitedBefore = loader.waitedNanos(), commNanos = 0;
            double wLoss = 0, wMse = 0, wVb = 0, smoothLoss = Double.NaN;
            double lrFactor = 1; // the time cool-down's factor; with several ranks, rank 0's clock from the last step
            while (step < config.steps()) {
                double lossSum = 0, mseSum = 0, vbSum = 0, gradNorm;
                boolean last;
                if (group == null) lrFactor = cooldownFactor();
                double lr = config.lrAt(step) * lrFactor;
                try (PointerScope scope = new PointerScope()) {
                    setLearningRate(optimizer, lr);
                    optimizer.zero_grad();
                    StepDraws draws = StepDraws.of(config, diffusion.numTimesteps(), data, step);
                    for (int a = 0; a < accum; a++) {
                        BatchLoader.Batch batch = loader.next();
                        Tensor x = Tensors.floats(batch.x(), xShape);
                        Tensor y = Tensors.longs(batch.y(), micro);
                        // this micro-batch's slice of the step's global draws: results do not depend on how the
                        // global batch is split over ranks and accumulation steps
                        long offset = (long) a * micro * world + (long) rank * micro;
                        Tensor t = draws.t.narrow(0, offset, micro);
                        Tensor noise = draws.noise.narrow(0, offset, micro);
                        DenoiserFn fn = denoiser(model, y, draws, offset, micro);
                        GaussianDiffusion.Losses l = diffusion.trainingLosses(fn, x, t, y, noise);
                        Tensor perSample = l.loss();
                        if (snrWeights != null && l.mse() != null) { // reweight the MSE term, keep the VLB term
                            perSample = l.mse().mul(snrWeights.index_select(0, t)).add(l.vb() != null ? l.vb() : torch.zeros_like(l.mse()));
                        }
                        Tensor loss = perSample.mean();
                        loss.div(new Scalar((double) accum)).backward(); // averageGradients divides by the world size
                        lossSum += loss.item_double();
                        if (l.mse() != null) mseSum += l.mse().mean().item_double();
                        if (l.vb() != null) vbSum += l.vb().mean().item_double();
                    }
                    boolean stopHere = stopRequested || System.nanoTime() >= deadlineNanos;
                    if (group != null) {
                        long tComm = System.nanoTime();
                        group.averageGradients(params, GRADIENT_BUCKET_BYTES);
                        commNanos += System.nanoTime() - tComm;
                        double[] shared = reduce(new double[] {lossSum, mseSum, vbSum, main && stopHere ? 1 : 0,
                                main ? cooldownFactor() : 0});
                        lossSum = shared[0] / world;
                        mseSum = shared[1] / world;
                        vbSum = shared[2] / world;
                        stopHere = shared[3] > 0; // rank 0's clock decides, so every rank stops at the same step
                        lrFactor = shared[4]; // and sets the next step's learning rate, so the replicas stay equal
                    }
                    last = step + 1 == config.steps() || stopHere;
                    // the global gradient norm, clipped when asked (an infinite bound only measures it)
                    gradNorm = torch.clip_grad_norm_(paramVector, config.gradClip() > 0 ? config.gradClip() : 1e20);
                    boolean finite = Double.isFinite(gradNorm) && Double.isFinite(lossSum);
                    if (!finite && skipNonFinite) {
                        skippedSteps++;
                        if (main) System.err.printf("%nskipping step %d: non-finite %s (%d skipped so far)%n", step + 1,
                                Double.isFinite(lossSum) ? "gradient" : "loss", skippedSteps);
                    } else if (!finite) {
                        throw new NonFiniteException("non-finite " + (Double.isFinite(lossSum) ? "gradient norm" : "loss")
                                + " at step " + (step + 1) + "; stopped before the update, so no poisoned weights were written (last"
                                + " checkpoint: " + lastCheckpoint + "). Try a lower --lr, --grad-clip 1, --warmup or --skip-nonfinite.");
                    } else {
                        optimizer.step();
                        ema.update(Ema.decayAt(config.emaDecay(), config.emaWarmup(), step));
                    }
                }
                step++;
                windowSteps++;
                double loss = lossSum / accum;
                losses.add(loss);
                wLoss += loss;
                wMse += mseSum / accum;
                wVb += vbSum / accum;
                double secs = (System.nanoTime() - windowStart) / 1e9;
                StepStats stats = new StepStats(step, config.steps(), loss, mseSum / accum, vbSum / accum, gradNorm,
                        lr, windowSteps / Math.max(secs, 1e-9),
                        (loader.waitedNanos() - waitedBefore) / 1e9, Rss.current(), commNanos / 1e9 / windowSteps);
                listener.onStep(stats);
                if (!main) {
                    if (last) break;
                    continue;
                }
                history.add(step, loss);
                // a single step's loss swings with its random timesteps: show a running average
                smoothLoss = Double.isNaN(smoothLoss) ? loss : 0.95 * smoothLoss + 0.05 * loss;
                bar.set("loss(avg)", smoothLoss).update(step);
                if (step % config.logEvery() == 0 || last) {
                    // the log line holds means over the steps since the previous line
                    history.log(new StepStats(step, config.steps(), wLoss / windowSteps, wMse / windowSteps,
                            wVb / windowSteps, gradNorm, stats.lr(), stats.stepsPerSecond(), stats.dataWaitSeconds(),
                            stats.rssBytes(), stats.allreduceSeconds()), config.globalBatch(), windowSteps);
                    windowStart = System.nanoTime();
                    windowSteps = 0;
                    wLoss = wMse = wVb = 0;
                    commNanos = 0;
                    waitedBefore = loader.waitedNanos();
                }
                if ((config.checkpointEvery() > 0 && step % config.checkpointEvery() == 0) || last) {
                    Path target = TrainingCheckpoint.fileFor(ckptDir, step);
                    try (PointerScope scope = new PointerScope()) {
                        TrainingCheckpoint.save(target, step, model, ema.model(), optimizer, checkpointArgs());
                    } catch (IOException e) {
                        throw new IOException("writing checkpoint " + target + " failed (" + e.getMessage() + "); training stopped at step "
                                + step + ". The previous checkpoint " + (lastCheckpoint == null ? "(none yet)" : lastCheckpoint)
                                + " is intact: free space or fix permissions, then --resume", e);
                    }
                    lastCheckpoint = target;
                    // the write's Java buffers (optimizer state bytes, the pickle) grow the heap by ~10x the optimizer
                    // state once; a full collection now lets the serial collector shrink it again, so RSS stays flat
                    System.gc();
                    TrainingCheckpoint.prune(ckptDir, config.keepCheckpoints());
                    history.plot(runDir.resolve("loss.png"));
                }
                if (config.sampleEvery() > 0 && (step % config.sampleEvery() == 0 || last)) {
                    try (PointerScope scope = new PointerScope()) {
                        writePreview(ema.model(), step);
                    }
                }
                if (last) break;
            }
        }
        if (main) history.plot(runDir.resolve("loss.png"));
        return new Result(step, lastCheckpoint, losses, model, ema.model());
    }

    static final long GRADIENT_BUCKET_BYTES = 25L << 20;

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

    /** Training stopped on a NaN/Inf loss or gradient, before applying it. */
    public static final class NonFiniteException extends IllegalStateException {
        public NonFiniteException(String message) {
            super(message);
        }
    }

    private Path newestValidCheckpoint(Path dir, Backbone model, Ema ema, AdamW optimizer) throws IOException {
        for (Path p : TrainingCheckpoint.list(dir)) {
            try {
                TrainingCheckpoint.Loaded l = TrainingCheckpoint.load(p, model, ema.model(), optimizer);
                System.err.println("resuming from " + p + " (step " + l.step() + ")");
                return p;
            } catch (IOException | RuntimeException e) {
                System.err.println("skipping checkpoint " + p + ": " + e.getMessage());
            }
        }
        return null;
    }

    private void broadcastParameter(Tensor t) {
        try (NoGradGuard g = new NoGradGuard()) {
            group.broadcast(t, 0);
        }
    }

    /** Rank 0's value, on every rank. */
    private long agree(long value) {
        Tensor v = Tensors.doubles(new double[] {group.rank() == 0 ? value : 0}, 1);
        group.broadcast(v, 0);
        return (long) Tensors.toDoubles(v)[0];
    }

    private double[] reduce(double[] values) {
        Tensor v = Tensors.doubles(values, values.length);
        group.allreduceSum(v);
        return Tensors.toDoubles(v);
    }

    /**
     * One step's randomness for the whole global batch, from (seed, step) only: timesteps, noise and label-dropout
     * draws (three rows: one per U-DiT label embedder for the reference's independent dropout; row 0 is the shared
     * draw). Every rank draws the same and takes its slice.
     */
    record StepDraws(Tensor t, Tensor noise, Tensor drop) {
        static StepDraws of(TrainConfig c, int timesteps, Dataset data, long step) {
            GeneratorOptional g = new GeneratorOptional(torch.make_generator_cpu(Seeds.mix(c.seed(), step, 0)));
            long n = c.globalBatch();
            Tensor t = torch.randint(timesteps, new long[] {n}, g, Tensors.options(ScalarType.Long));
            Tensor noise = torch.randn(new long[] {n, data.channels(), data.resolution(), data.resolution()}, g,
                    Tensors.options(ScalarType.Float));
            Tensor drop = torch.rand(new long[] {3, n}, g, Tensors.options(ScalarType.Float))
                    .lt(new Scalar(c.model().classDropoutProb()));
            return new StepDraws(t, noise, drop);
        }
    }

    /**
     * The denoiser for one micro-batch with classifier-free-guidance label dropout: one shared draw per sample by
     * default (all three U-DiT embedders see the null class together, as at sampling time), or the reference's three
     * independent draws.
     */
    private DenoiserFn denoiser(Backbone model, Tensor y, StepDraws draws, long offset, int n) {
        if (!config.model().hasNullClass()) return (xt, tt, yy) -> model.forward(xt, tt, yy);
        long nullClass = config.model().nullClass();
        if (config.independentLabelDropout() && model instanceof UDiT u) {
            Tensor y1 = dropped(y, nullClass, draws.drop().select(0, 0).narrow(0, offset, n));
            Tensor y2 = dropped(y, nullClass, draws.drop().select(0, 1).narrow(0, offset, n));
            Tensor y3 = dropped(y, nullClass, draws.drop().select(0, 2).narrow(0, offset, n));
            return (xt, tt, yy) -> u.forward(xt, tt, y1, y2, y3, io.udit.model.Probe.NONE);
        }
        Tensor yd = dropped(y, nullClass, draws.drop().select(0, 0).narrow(0, offset, n));
        return (xt, tt, yy) -> model.forward(xt, tt, yd);
    }

    /**
     * AdamWOptions.betas() is a std::tuple<double, double> seen as two doubles, and libstdc++ stores a tuple's
     * elements in reverse order: writing (beta1, beta2) at indices (0, 1) silently trains with beta1 = 0.999 and
     * beta2 = 0.9 (very slow learning). Find the layout from the defaults (0.9, 0.999) instead of assuming it.
     */
    static void setBetas(AdamWOptions opts, double beta1, double beta2) {
        AdamWOptions probe = new AdamWOptions();
        int beta1Index = probe.betas().get(0) == 0.9 ? 0 : 1;
        opts.betas().put(beta1Index, beta1).put(1 - beta1Index, beta2);
    }

    private static void setLearningRate(AdamW optimizer, double lr) {
        var groups = optimizer.param_groups();
        for (long i = 0; i < groups.size(); i++) groups.get(i).options().set_lr(lr);
    }

    private static Tensor dropped(Tensor y, long nullClass, Tensor mask) {
        return torch.where(mask, new Scalar(nullClass), y);
    }

    private Map<String, Object> checkpointArgs() {
        Map<String, Object> args = new LinkedHashMap<>(config.toMap());
        args.put("data", data.describe());
        return args;
    }

    private void writeConfig() throws IOException {
        Map<String, Object> m = new LinkedHashMap<>(checkpointArgs());
        m.put("threads", Engine.threadSettings());
        AtomicFiles.write(runDir.resolve("config.json"), Json.writePretty(m).getBytes(StandardCharsets.UTF_8));
    }

    private void writePreview(Backbone ema, long step) throws IOException {
        try (NoGradGuard g = new NoGradGuard()) {
            ema.setForm(Form.EVAL);
            byte[] png = Previews.classGrid(ema, data, config.previewPerClass(), config.previewSampler(),
                    config.previewSteps(), config.previewCfgScale(), config.clipDenoised(), config.seed(), config.noiseSchedule());
            AtomicFiles.write(runDir.resolve("samples").resolve(String.format("step_%07d.png", step)), png);
            AtomicFiles.write(runDir.resolve("samples").resolve("latest.png"), png);
        }
    }

    /** Seeds derived from (run seed, step, micro-batch), so randomness never depends on how a run was resumed. */
    static final class Seeds {
        private Seeds() {}

        static long mix(long seed, long step, long micro) {
            long h = seed * 0x9E3779B97F4A7C15L + step * 0xBF58476D1CE4E5B9L + micro * 0x94D049BB133111EBL;
            h ^= h >>> 31;
            h *= 0xD6E8FEB86659FD93L;
            h ^= h >>> 32;
            return h & Long.MAX_VALUE;
        }
    }

    /** The JSONL log and the loss curve. On resume, log lines past the resumed step are dropped. */
    static final class RunHistory {
        private final Path log;
        private final List<double[]> points = new ArrayList<>();

        private RunHistory(Path log) {
            this.log = log;
        }

        static RunHistory load(Path log, long resumeStep) throws IOException {
            RunHistory h = new RunHistory(log);
            if (!Files.exists(log)) return h;
            List<String> kept = new ArrayList<>();
            for (String line : Files.readAllLines(log)) {
                try {
                    Map<String, Object> m = Json.parseObject(line);
                    long s = ((Number) m.get("step")).longValue();
                    if (s > resumeStep) continue;
                    kept.add(line);
                    if (m.get("loss") instanceof Number l) h.points.add(new double[] {s, l.doubleValue()});
                } catch (RuntimeException e) {
                    // a torn last line from a killed run: drop it
                }
            }
            AtomicFiles.write(log, (String.join("\n", kept) + (kept.isEmpty() ? "" : "\n")).getBytes(StandardCharsets.UTF_8));
            return h;
        }

        void add(long step, double loss) {
            points.add(new double[] {step, loss});
        }

        void log(StepStats s, int globalBatch, long window) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("step", s.step());
            m.put("steps_averaged", window);
            m.put("loss", finite(s.loss()));
            m.put("mse", finite(s.mse()));
            m.put("vb", finite(s.vb()));
            m.put("grad_norm", finite(s.gradNorm()));
            m.put("lr", s.lr());
            m.put("steps_per_s", s.stepsPerSecond());
            m.put("images_per_s", s.stepsPerSecond() * globalBatch);
            m.put("data_wait_s", s.dataWaitSeconds());
            m.put("rss_mb", s.rssBytes() / 1e6);
            if (s.allreduceSeconds() > 0) m.put("allreduce_s", s.allreduceSeconds()); // gradient averaging per step
            m.put("time", java.time.Instant.now().toString());
            try {
                Files.writeString(log, Json.write(m) + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot append to " + log, e);
            }
        }

        /** JSON has no NaN/Inf: such values are logged as null. */
        static Double finite(double v) {
            return Double.isFinite(v) ? v : null;
        }

        void plot(Path png) throws IOException {
            double[] xs = new double[points.size()], ys = new double[points.size()];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = points.get(i)[0];
                ys[i] = points.get(i)[1];
            }
            AtomicFiles.write(png, LinePlot.png("training loss", "step", "loss",
                    List.of(new LinePlot.Series("loss per step", xs, ys)), true));
        }
    }
}
