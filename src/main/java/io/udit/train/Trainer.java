package io.udit.train;

import io.udit.bench.Rss;
import io.udit.data.BatchLoader;
import io.udit.data.Dataset;
import io.udit.diffusion.DenoiserFn;
import io.udit.dist.ProcessGroup;
import io.udit.diffusion.GaussianDiffusion;
import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.io.AtomicFiles;
import io.udit.io.CheckpointFormatException;
import io.udit.io.Json;
import io.udit.model.Backbone;
import io.udit.model.Form;
import io.udit.model.UDiT;
import io.udit.report.ProgressBar;
import io.udit.report.tensorboard.LogTags;
import io.udit.report.tensorboard.TensorBoardWriter;
import io.udit.sample.Previews;
import io.udit.sample.SampleRequest;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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

    private final RunConfig config;
    private final Objective objective;
    private final Dataset data;
    private final Path runDir;
    private final RunFolder.Start start;
    private final Listener listener;
    private volatile long deadlineNanos = Long.MAX_VALUE;
    private long budgetNanos;
    private double cooldownFraction;
    private ProcessGroup group;
    private long skippedSteps;
    private volatile boolean stopRequested;
    private RunFolder ownedFolder;
    private SampleEvaluator evaluator;

    /**
     * A run of {@code config} on {@code data} in {@code runDir}. {@code start} says what to do with a folder that
     * already holds a run: refuse (NEW), continue it (RESUME), or move it aside (OVERWRITE).
     */
    public Trainer(RunConfig config, Dataset data, Path runDir, RunFolder.Start start, Listener listener) {
        this.config = config;
        this.objective = Objective.of(config);
        this.data = data;
        this.runDir = runDir;
        this.start = start;
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

    /**
     * Trains in a folder the caller has already taken (so it could read the folder's config under the lock); the
     * trainer closes it at the end.
     */
    public Trainer withRunFolder(RunFolder folder) {
        if (!folder.dir().equals(runDir)) throw new IllegalArgumentException("run folder " + folder.dir() + " is not " + runDir);
        this.ownedFolder = folder;
        return this;
    }

    /**
     * Scores the EMA model with this evaluator when the run's {@code eval.every} asks for evaluations (default: the
     * evaluator {@link SampleEvaluator#forRun} builds from the run config).
     */
    public Trainer withEvaluator(SampleEvaluator e) {
        this.evaluator = e;
        return this;
    }

    /** Runs as one rank of a data-parallel job (gradients averaged over the group; rank 0 writes all files). */
    public Trainer withProcessGroup(ProcessGroup group) {
        this.group = group;
        return this;
    }

    /** Trains to {@code config.steps()} (or the time budget, or a stop request) and returns the final state. */
    public Result run() throws IOException {
        Engine.init();
        int rank = group == null ? 0 : group.rank(), world = group == null ? 1 : group.worldSize();
        int micro = config.microBatchFor(world);
        if (config.globalBatch() % (micro * world) != 0) {
            throw new IllegalArgumentException("global batch " + config.globalBatch() + " is not a multiple of micro batch "
                    + micro + " x world size " + world);
        }
        if (group != null) group.checkSameConfig(Json.write(identity()));
        try (RunFolder folder = ownedFolder != null ? ownedFolder : rank == 0 ? RunFolder.open(runDir, start) : null) {
            if (folder != null) folder.begin();
            RunConfig saved = folder != null && start == RunFolder.Start.RESUME ? savedConfig() : null;
            if (saved != null) {
                List<String> diff = saved.identityDifferences(config);
                if (!diff.isEmpty()) {
                    throw new RunException("--resume would change the run in " + runDir + ": " + String.join("; ", diff)
                            + ". Resume without these changes, or start a new run in another folder");
                }
            }
            // every rank evaluates (the same samples), so no rank waits on another's evaluation past the collectives' timeout
            if (config.eval().every() > 0 && evaluator == null) {
                evaluator = SampleEvaluator.forRun(config, data, rank == 0 ? System.err::println : s -> {});
            }
            if (evaluator != null && config.eval().every() > 0 && !evaluator.reports(config.eval().metric())) {
                throw new RunException("--eval-metric " + config.eval().metric() + ": the evaluator does not report it");
            }
            State state = new State(config, group);
            long step = start == RunFolder.Start.RESUME ? restore(state) : 0;
            try (Outputs out = rank == 0 ? Outputs.open(this, step, saved) : null) {
                return loop(state, out, step, micro, config.globalBatch() / (micro * world));
            }
        }
    }

    /** The network, its EMA and the optimizer; identical on every rank. */
    private static final class State {
        final Backbone model;
        final Ema ema;
        final List<Tensor> params;
        final TensorVector paramVector;
        final FusedAdamW optimizer;

        State(RunConfig config, ProcessGroup group) {
            model = config.model().build(config.seed());
            model.setForm(Form.TRAIN);
            if (config.checkpointActivations()) model.setActivationCheckpointing(true);
            params = model.trainableParameters();
            if (group != null) {
                try (NoGradGuard g = new NoGradGuard()) {
                    for (Tensor t : model.stateDict().values()) group.broadcast(t, 0); // identical start everywhere
                }
            }
            ema = new Ema(model);
            paramVector = new TensorVector(params.toArray(new Tensor[0]));
            optimizer = new FusedAdamW(params, config.lr(), config.beta1(), config.beta2(), config.weightDecay());
        }
    }

    /** The settings every rank must share (not cadences or loader threads, which only rank 0 or each rank uses). */
    private Map<String, Object> identity() {
        Map<String, Object> all = config.toMap(), m = new LinkedHashMap<>();
        for (String k : RunConfig.IDENTITY_KEYS) m.put(k, all.get(k));
        m.put("steps", config.steps());
        return m;
    }

    private RunConfig savedConfig() throws IOException {
        Path file = runDir.resolve("config.json");
        if (!Files.isRegularFile(file)) return null;
        try {
            return RunConfig.fromMap(Json.parseObject(Files.readString(file, StandardCharsets.UTF_8)));
        } catch (IllegalArgumentException e) {
            throw new RunException(file + ": not a run config this version reads (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Loads the newest usable checkpoint on rank 0 and sends its state to the other ranks (the file is read once);
     * returns its step (0 when there is none). Only a damaged file (format or checksum) is skipped; a checkpoint of
     * another model stops the run, and so does a failure to read, which says nothing about the file.
     */
    private long restore(State state) throws IOException {
        Path ckptDir = runDir.resolve("checkpoints");
        boolean main = group == null || group.rank() == 0;
        long step = -1;
        if (main) {
            for (Path p : TrainingCheckpoint.list(ckptDir, System.err::println)) {
                TrainingCheckpoint.Loaded l;
                try {
                    l = TrainingCheckpoint.load(p, state.model, state.ema.model(), state.optimizer);
                } catch (CheckpointFormatException e) {
                    System.err.println("skipping checkpoint " + p + ": " + e.getMessage());
                    continue;
                } catch (Backbone.StateDictMismatchException e) {
                    throw new RunException("checkpoint " + p + " does not fit this run's model: " + firstMismatch(e)
                            + "; it was not written by this run (nothing was changed)", e);
                } catch (IOException e) {
                    throw new IOException("cannot read checkpoint " + p + " (" + e.getMessage() + "); nothing was changed", e);
                }
                System.err.println("resuming from " + p + " (step " + l.step() + ")");
                if (l.step() != TrainingCheckpoint.stepOf(p)) {
                    System.err.println("note: " + p.getFileName() + " holds step " + l.step() + "; the stored step counts, not the name");
                }
                step = l.step();
                break;
            }
            if (step < 0) System.err.println("no checkpoint in " + ckptDir + "; starting from step 0");
        }
        if (group != null) {
            step = agree(step); // every rank resumes from rank 0's choice
            if (step >= 0) sendRestoredState(state);
        }
        return Math.max(step, 0);
    }

    /** Rank 0's restored weights, EMA and optimizer state, on every rank. */
    private void sendRestoredState(State state) throws IOException {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            for (Tensor t : state.model.stateDict().values()) group.broadcast(t, 0);
            for (Tensor t : state.ema.model().stateDict().values()) group.broadcast(t, 0);
            Tensor opt = group.rank() == 0 ? OptimizerState.serialize(state.optimizer) : null;
            long bytes = agree(opt == null ? 0 : opt.numel());
            if (opt == null) opt = torch.zeros(new long[] {bytes}, Tensors.options(ScalarType.Byte));
            group.broadcast(opt, 0);
            if (group.rank() != 0) OptimizerState.load(state.optimizer, opt);
        }
    }

    /** The first difference a state-dict mismatch lists, on one line. */
    private static String firstMismatch(Backbone.StateDictMismatchException e) {
        int n = e.wrongShape.size() + e.missing.size() + e.unexpected.size() + e.wrongType.size();
        String first = !e.wrongShape.isEmpty() ? "wrong shape " + e.wrongShape.get(0)
                : !e.missing.isEmpty() ? "missing " + e.missing.get(0)
                : !e.unexpected.isEmpty() ? "unexpected " + e.unexpected.get(0) : "wrong type " + e.wrongType.get(0);
        if (first.length() > 200) first = first.substring(0, 200) + "...";
        return first + (n > 1 ? " (and " + (n - 1) + " more differences)" : "");
    }

    private Result loop(State st, Outputs out, long step, int micro, int accum) throws IOException {
        int rank = group == null ? 0 : group.rank(), world = group == null ? 1 : group.worldSize();
        long[] xShape = {micro, data.channels(), data.resolution(), data.resolution()};
        List<Double> losses = new ArrayList<>();
        // a checkpointed backward updates each block as soon as its gradients are complete, unless the update needs
        // every gradient first (see BlockwiseAdamW)
        BlockwiseAdamW blockwise = config.checkpointActivations() && group == null && accum == 1 && config.gradClip() == 0
                && !config.skipNonFinite() ? new BlockwiseAdamW(st.optimizer) : null;
        st.model.setBlockGradientSink(blockwise);
        try (BatchLoader loader = BatchLoader.builder(data, micro).seed(config.seed())
                .startPosition(step * config.globalBatch()).shard(rank, world)
                .workers(config.loaderWorkers() > 0 ? config.loaderWorkers() : BatchLoader.defaultWorkers()).build();
             ProgressBar bar = out != null ? new ProgressBar("train", config.steps(), step).withDeadline(deadlineNanos) : null) {
            Window window = new Window(loader.waitedNanos());
            double lrFactor = 1; // the time cool-down's factor; with several ranks, rank 0's clock from the last step
            while (step < config.steps()) {
                if (group == null) lrFactor = cooldownFactor();
                double lr = config.lrAt(step) * lrFactor;
                double[] sums; // loss, mse, vb summed over the accumulation steps (averaged over ranks)
                double gradNorm;
                boolean stopHere;
                try (PointerScope scope = new PointerScope()) {
                    st.optimizer.setLearningRate(lr);
                    st.optimizer.zeroGrad();
                    if (blockwise != null) blockwise.begin();
                    sums = accumulateGradients(st.model, loader, xShape, step, micro, accum, rank, world);
                    stopHere = stopRequested || System.nanoTime() >= deadlineNanos;
                    if (group != null) {
                        long tComm = System.nanoTime();
                        group.averageGradients(st.params, GRADIENT_BUCKET_BYTES);
                        window.commNanos += System.nanoTime() - tComm;
                        double[] shared = reduce(new double[] {sums[0], sums[1], sums[2], rank == 0 && stopHere ? 1 : 0,
                                rank == 0 ? cooldownFactor() : 0});
                        for (int i = 0; i < 3; i++) sums[i] = shared[i] / world;
                        stopHere = shared[3] > 0; // rank 0's clock decides, so every rank stops at the same step
                        lrFactor = shared[4]; // and sets the next step's learning rate, so the replicas stay equal
                    }
                    gradNorm = applyUpdate(st, blockwise, step, sums[0], out == null ? null : out.lastCheckpoint);
                }
                step++;
                boolean last = step == config.steps() || stopHere;
                double loss = sums[0] / accum;
                losses.add(loss);
                window.add(loss, sums[1] / accum, sums[2] / accum);
                StepStats stats = window.stats(step, config.steps(), loss, sums[1] / accum, sums[2] / accum, gradNorm, lr, loader.waitedNanos());
                listener.onStep(stats);
                if (out != null) {
                    bar.set("loss(avg)", window.smoothLoss).update(step);
                    out.afterStep(step, last, window, stats, loader, st);
                } else if (evaluationDue(step, last)) {
                    evaluator.evaluate(st.ema.model(), evaluationRequest(), config.eval().perClass(), step, null);
                }
                if (last) break;
            }
        } finally {
            st.model.setBlockGradientSink(null); // the model outlives the run (Result), the sink is this run's
        }
        if (out != null) out.finish();
        return new Result(step, out == null ? null : out.lastCheckpoint, losses, st.model, st.ema.model());
    }

    /** Forward and backward over the step's micro-batches; returns the summed loss, MSE and VLB terms. */
    private double[] accumulateGradients(Backbone model, BatchLoader loader, long[] xShape, long step, int micro, int accum,
                                         int rank, int world) {
        double[] sums = new double[3];
        StepDraws draws = StepDraws.of(config, objective, data, step);
        for (int a = 0; a < accum; a++) {
            BatchLoader.Batch batch = loader.next();
            Tensor x = Tensors.floats(batch.x(), xShape);
            Tensor y = Tensors.longs(batch.y(), micro);
            // this micro-batch's slice of the step's global draws: results do not depend on how the global batch is
            // split over ranks and accumulation steps
            long offset = (long) a * micro * world + (long) rank * micro;
            Tensor t = draws.t.narrow(0, offset, micro);
            Tensor noise = draws.noise.narrow(0, offset, micro);
            DenoiserFn fn = denoiser(model, y, draws, offset, micro);
            GaussianDiffusion.Losses l = objective.loss(fn, x, t, noise, y);
            Tensor loss = l.loss().mean();
            loss.div(new Scalar((double) accum)).backward(); // averageGradients divides by the world size
            sums[0] += loss.item_double();
            sums[1] += l.mse() != null ? l.mse().mean().item_double() : Double.NaN; // NaN: logged as null (no such term)
            sums[2] += l.vb() != null ? l.vb().mean().item_double() : Double.NaN;
        }
        return sums;
    }

    /**
     * Clips (or measures) the gradient norm and applies AdamW and the EMA, unless the step is not finite. With a
     * blockwise update the blocks are updated already, and only the parameters outside them are left.
     */
    private double applyUpdate(State st, BlockwiseAdamW blockwise, long step, double lossSum, Path lastCheckpoint) {
        // the global gradient norm, clipped when asked (an infinite bound only measures it)
        double gradNorm = blockwise != null ? blockwise.gradientNorm(st.paramVector)
                : torch.clip_grad_norm_(st.paramVector, config.gradClip() > 0 ? config.gradClip() : 1e20);
        boolean finite = Double.isFinite(gradNorm) && Double.isFinite(lossSum);
        if (!finite && config.skipNonFinite()) {
            skippedSteps++;
            if (group == null || group.rank() == 0) System.err.printf("%nskipping step %d: non-finite %s (%d skipped so far)%n", step + 1,
                    Double.isFinite(lossSum) ? "gradient" : "loss", skippedSteps);
        } else if (!finite) {
            throw new NonFiniteException("non-finite " + (Double.isFinite(lossSum) ? "gradient norm" : "loss")
                    + " at step " + (step + 1) + "; stopped before " + (blockwise != null ? "any weight took a non-finite gradient" : "the update")
                    + ", so no poisoned weights were written (last checkpoint: " + lastCheckpoint + ")."
                    + " Try a lower --lr, --grad-clip 1, --warmup or --skip-nonfinite.");
        } else {
            if (blockwise != null) blockwise.finish();
            else st.optimizer.step();
            st.ema.update(Ema.decayAt(config.emaDecay(), config.emaWarmup(), step));
        }
        return gradNorm;
    }

    /** Means over the steps since the last log line, and the running loss average the progress bar shows. */
    private static final class Window {
        long start = System.nanoTime(), steps, waitedBefore, commNanos;
        double loss, mse, vb, smoothLoss = Double.NaN;

        Window(long waited) {
            waitedBefore = waited;
        }

        void add(double l, double m, double v) {
            steps++;
            loss += l;
            mse += m;
            vb += v;
            // a single step's loss swings with its random timesteps
            smoothLoss = Double.isNaN(smoothLoss) ? l : 0.95 * smoothLoss + 0.05 * l;
        }

        StepStats stats(long step, long total, double l, double m, double v, double gradNorm, double lr, long waited) {
            double secs = (System.nanoTime() - start) / 1e9;
            return new StepStats(step, total, l, m, v, gradNorm, lr, steps / Math.max(secs, 1e-9),
                    (waited - waitedBefore) / 1e9, Rss.current(), commNanos / 1e9 / steps);
        }

        StepStats means(StepStats s) {
            return new StepStats(s.step(), s.totalSteps(), loss / steps, mse / steps, vb / steps, s.gradNorm(), s.lr(),
                    s.stepsPerSecond(), s.dataWaitSeconds(), s.rssBytes(), s.allreduceSeconds());
        }

        void reset(long waited) {
            start = System.nanoTime();
            steps = 0;
            loss = mse = vb = 0;
            commNanos = 0;
            waitedBefore = waited;
        }
    }

    /**
     * What rank 0 writes into the run folder: config, log, TensorBoard events, training plot, checkpoints and
     * previews, each announced with a line on stderr.
     */
    private static final class Outputs implements AutoCloseable {
        final Trainer trainer;
        final RunConfig config;
        final Path runDir, ckptDir;
        final RunLog log;
        final TensorBoardWriter tensorBoard;
        Path lastCheckpoint;
        Double best; // the best value of the evaluation metric so far (from best.json when resuming)

        private Outputs(Trainer trainer, RunLog log) {
            this.trainer = trainer;
            this.config = trainer.config;
            this.runDir = trainer.runDir;
            this.ckptDir = runDir.resolve("checkpoints");
            this.log = log;
            this.tensorBoard = TensorBoardWriter.open(runDir); // a new event file per process start
        }

        static Outputs open(Trainer trainer, long step, RunConfig saved) throws IOException {
            Path dir = trainer.runDir;
            Files.createDirectories(dir.resolve("checkpoints"));
            Files.createDirectories(dir.resolve("samples"));
            Outputs out = new Outputs(trainer, RunLog.open(dir, step));
            if (step > 0) out.lastCheckpoint = TrainingCheckpoint.list(out.ckptDir).stream().findFirst().orElse(null);
            out.best = BestCheckpoint.read(out.ckptDir, trainer.config.eval().metric());
            AtomicFiles.write(dir.resolve("config.json"), Json.writePretty(trainer.config.toMap()).getBytes(StandardCharsets.UTF_8));
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("threads", Engine.threadSettings());
            if (saved != null) details.put("changes", saved.otherChanges(trainer.config));
            out.log.event(step > 0 || saved != null ? "resume" : "start", step, details);
            return out;
        }

        void afterStep(long step, boolean last, Window window, StepStats stats, BatchLoader loader, State st) throws IOException {
            if (step % config.logEvery() == 0 || last) {
                tensorBoard.scalars(step, LogTags.of(log.log(window.means(stats), config.globalBatch(), window.steps)));
                tensorBoard.flush();
                window.reset(loader.waitedNanos());
            }
            if ((config.checkpointEvery() > 0 && step % config.checkpointEvery() == 0) || last) checkpoint(step, st);
            if (config.sampleEvery() > 0 && (step % config.sampleEvery() == 0 || last)) {
                try (PointerScope scope = new PointerScope()) {
                    tensorBoard.image("samples/preview", step, trainer.writePreview(st.ema.model(), step));
                }
                announce("preview", runDir.resolve("samples").resolve(String.format("step_%07d.png", step)));
            }
            if (trainer.evaluationDue(step, last)) evaluate(step, st);
        }

        /**
         * Scores the EMA model on the evaluation's fixed labels and noise; logs the figures (log.jsonl event "eval",
         * TensorBoard {@code eval/*}) and keeps {@code checkpoints/best.pt} when the chosen metric improves.
         */
        private void evaluate(long step, State st) throws IOException {
            RunConfig.EvalSettings ev = config.eval();
            SampleRequest request = trainer.evaluationRequest();
            long[] labels = request.labels();
            long t0 = System.nanoTime();
            SampleEvaluator.Scores scores = trainer.evaluator.evaluate(st.ema.model(), request, ev.perClass(), step, runDir.resolve("eval"));
            Map<String, Object> line = new LinkedHashMap<>();
            scores.metrics().forEach((k, v) -> line.put(k, RunLog.finite(v)));
            line.put("images", labels.length);
            line.put("seconds", (System.nanoTime() - t0) / 1e9);
            log.event("eval", step, line);
            Map<String, Double> tags = new LinkedHashMap<>();
            scores.metrics().forEach((k, v) -> { if (Double.isFinite(v)) tags.put("eval/" + k, v); });
            tensorBoard.scalars(step, tags);
            tensorBoard.image("eval/samples", step, scores.gridPng());
            tensorBoard.flush();
            StringBuilder said = new StringBuilder();
            scores.metrics().forEach((k, v) -> said.append(said.length() == 0 ? "" : ", ").append(k).append(' ')
                    .append(String.format(java.util.Locale.ROOT, "%.4g", v)));
            System.err.printf("%nevaluation at step %d: %s%n", step, said);
            Double value = scores.metrics().get(ev.metric());
            if (value != null && Double.isFinite(value) && BestCheckpoint.improves(value, best, ev.lowerIsBetter())) {
                Path target = ckptDir.resolve(BestCheckpoint.FILE);
                try (PointerScope scope = new PointerScope()) {
                    TrainingCheckpoint.save(target, step, st.model, st.ema.model(), st.optimizer, config.toMap());
                }
                BestCheckpoint.write(ckptDir, ev.metric(), value, step, scores.metrics());
                best = value;
                announce("best checkpoint (" + ev.metric() + " " + String.format(java.util.Locale.ROOT, "%.4g", value) + ")", target);
            }
        }

        /** A line on stderr for each file written between steps, below the progress bar. */
        private static void announce(String what, Path file) {
            System.err.printf("%n%s: %s%n", what, file.toAbsolutePath());
        }

        private void checkpoint(long step, State st) throws IOException {
            Path target = TrainingCheckpoint.fileFor(ckptDir, step);
            try (PointerScope scope = new PointerScope()) {
                TrainingCheckpoint.save(target, step, st.model, st.ema.model(), st.optimizer, config.toMap());
            } catch (IOException e) {
                throw new IOException("writing checkpoint " + target + " failed (" + e.getMessage() + "); training stopped at step "
                        + step + ". The previous checkpoint " + (lastCheckpoint == null ? "(none yet)" : lastCheckpoint)
                        + " is intact: free space or fix permissions, then --resume", e);
            }
            lastCheckpoint = target;
            announce("checkpoint", target);
            // the write's Java buffers (the pickle) grow the heap once; a full collection now lets the serial
            // collector shrink it again, so RSS stays flat
            System.gc();
            TrainingCheckpoint.prune(ckptDir, config.keepCheckpoints());
            log.plot(runDir.resolve("loss.png"));
        }

        void finish() throws IOException {
            log.plot(runDir.resolve("loss.png"));
        }

        @Override
        public void close() {
            tensorBoard.close();
        }
    }

    static final long GRADIENT_BUCKET_BYTES = 25L << 20;

    /** Training stopped on a NaN/Inf loss or gradient, before applying it. */
    public static final class NonFiniteException extends IllegalStateException {
        public NonFiniteException(String message) {
            super(message);
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
        static StepDraws of(RunConfig c, Objective objective, Dataset data, long step) {
            Generator g = torch.make_generator_cpu(io.udit.data.Seeds.trainingStep(c.seed(), step, 0));
            long n = c.globalBatch();
            Objective.Draws d = objective.draw(g, new long[] {n, data.channels(), data.resolution(), data.resolution()});
            Tensor drop = torch.rand(new long[] {3, n}, new GeneratorOptional(g), Tensors.options(ScalarType.Float))
                    .lt(new Scalar(c.model().classDropoutProb()));
            return new StepDraws(d.t(), d.noise(), drop);
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

    private static Tensor dropped(Tensor y, long nullClass, Tensor mask) {
        return torch.where(mask, new Scalar(nullClass), y);
    }

    /** Samples as uint8 NHWC pictures for previews: latents of an on-the-fly encoded dataset are decoded by its VAE. */
    public static java.util.function.UnaryOperator<Tensor> previewPixels(Dataset data) {
        if (data instanceof io.udit.vae.EncodedImages e) {
            return x -> e.vae().decodeToUint8(x, io.udit.vae.Vae.DecodeOptions.defaults(), io.udit.vae.Vae.Progress.NONE);
        }
        return io.udit.sample.Sampling::toUint8Nhwc;
    }

    private boolean evaluationDue(long step, boolean last) {
        int every = config.eval().every();
        return every > 0 && (step % every == 0 || last);
    }

    /** The evaluation's samples: eval.per_class images of every class from the evaluation's fixed noise. */
    private SampleRequest evaluationRequest() {
        RunConfig.EvalSettings ev = config.eval();
        long[] labels = new long[data.numClasses() * ev.perClass()];
        for (int c = 0; c < data.numClasses(); c++) java.util.Arrays.fill(labels, c * ev.perClass(), (c + 1) * ev.perClass(), c);
        return SampleRequest.builder(labels).sampler(ev.samplerFor(config.objective())).steps(ev.steps()).cfgScale(ev.cfgScale())
                .clip(config.clipsDenoised(data.isImage())).seed(ev.seed()).noiseSchedule(config.noiseSchedule())
                .transport(objective.transport()).build();
    }

    /** The preview grid of the EMA model, as PNG (also returned, for TensorBoard). */
    private byte[] writePreview(Backbone ema, long step) throws IOException {
        try (NoGradGuard g = new NoGradGuard()) {
            ema.setForm(Form.EVAL);
            SampleRequest.Builder request = SampleRequest.builder(new long[0]).sampler(config.previewSampler())
                    .steps(config.previewSteps()).cfgScale(config.previewCfgScale()).clip(config.clipsDenoised(data.isImage()))
                    .seed(config.seed()).noiseSchedule(config.noiseSchedule()).transport(objective.transport());
            byte[] png = Previews.classGrid(ema, data, config.previewPerClass(), request, step, previewPixels(data));
            AtomicFiles.write(runDir.resolve("samples").resolve(String.format("step_%07d.png", step)), png);
            AtomicFiles.write(runDir.resolve("samples").resolve("latest.png"), png);
            return png;
        } finally {
            ema.setForm(Form.TRAIN);
        }
    }
}
