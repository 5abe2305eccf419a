package io.udit.train;

import io.udit.data.BatchLoader;
import io.udit.data.Dataset;
import io.udit.diffusion.DenoiserFn;
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

    public record StepStats(long step, long totalSteps, double loss, double mse, double vb, double stepsPerSecond,
                            double dataWaitSeconds, long rssBytes) {}

    public record Result(long finalStep, Path lastCheckpoint, List<Double> losses, Backbone model, Backbone ema) {}

    private final TrainConfig config;
    private final Dataset data;
    private final Path runDir;
    private final boolean resume;
    private final Listener listener;

    public Trainer(TrainConfig config, Dataset data, Path runDir, boolean resume, Listener listener) {
        this.config = config;
        this.data = data;
        this.runDir = runDir;
        this.resume = resume;
        this.listener = listener == null ? Listener.NONE : listener;
        checkDataMatchesModel();
    }

    private void checkDataMatchesModel() {
        var m = config.model();
        List<String> problems = new ArrayList<>();
        if (m.inChannels() != data.channels()) problems.add("model takes " + m.inChannels() + " channels, data has " + data.channels());
        if (m.inputSize() != data.resolution()) problems.add("model input size " + m.inputSize() + ", data resolution " + data.resolution());
        if (m.numClasses() < data.numClasses()) problems.add("model has " + m.numClasses() + " classes, data " + data.numClasses());
        if (!problems.isEmpty()) throw new IllegalArgumentException("model and data do not fit: " + String.join("; ", problems));
    }

    public Result run() throws IOException {
        Engine.init();
        Path ckptDir = runDir.resolve("checkpoints");
        Files.createDirectories(ckptDir);
        Files.createDirectories(runDir.resolve("samples"));

        Backbone model = config.model().build(config.seed());
        model.setForm(Form.TRAIN);
        Ema ema = new Ema(model);
        List<Tensor> params = model.trainableParameters();
        AdamWOptions opts = new AdamWOptions(config.lr());
        opts.betas().put(0, config.beta1()).put(1, config.beta2());
        opts.weight_decay().put(config.weightDecay());
        AdamW optimizer = new AdamW(new TensorVector(params.toArray(new Tensor[0])), opts);

        long step = 0;
        Path lastCheckpoint = null;
        if (resume) {
            for (Path p : TrainingCheckpoint.list(ckptDir)) {
                try {
                    TrainingCheckpoint.Loaded l = TrainingCheckpoint.load(p, model, ema.model(), optimizer);
                    step = l.step();
                    lastCheckpoint = p;
                    System.err.println("resuming from " + p + " (step " + step + ")");
                    break;
                } catch (IOException | RuntimeException e) {
                    System.err.println("skipping checkpoint " + p + ": " + e.getMessage());
                }
            }
            if (lastCheckpoint == null) System.err.println("no valid checkpoint in " + ckptDir + "; starting from step 0");
        }
        writeConfig();
        RunHistory history = RunHistory.load(runDir.resolve("log.jsonl"), step);

        GaussianDiffusion diffusion = GaussianDiffusion.create("", new GaussianDiffusion.Options(
                config.noiseSchedule(), config.diffusionSteps(), false, false, false));
        int micro = config.microBatch(), accum = config.accumulation();
        long[] xShape = {micro, data.channels(), data.resolution(), data.resolution()};
        boolean dropLabels = config.model().hasNullClass();
        long nullClass = config.model().nullClass();
        double p = config.model().classDropoutProb();
        List<Double> losses = new ArrayList<>();

        try (BatchLoader loader = BatchLoader.builder(data, micro).seed(config.seed())
                .startPosition(step * config.globalBatch())
                .workers(config.loaderWorkers() > 0 ? config.loaderWorkers() : BatchLoader.defaultWorkers()).build();
             ProgressBar bar = new ProgressBar("train", config.steps(), step)) {
            long windowStart = System.nanoTime(), windowSteps = 0, waitedBefore = loader.waitedNanos();
            while (step < config.steps()) {
                double lossSum = 0, mseSum = 0, vbSum = 0;
                try (PointerScope scope = new PointerScope()) {
                    optimizer.zero_grad();
                    for (int a = 0; a < accum; a++) {
                        BatchLoader.Batch batch = loader.next();
                        Tensor x = Tensors.floats(batch.x(), xShape);
                        Tensor y = Tensors.longs(batch.y(), micro);
                        Generator gen = torch.make_generator_cpu(Seeds.mix(config.seed(), step, a));
                        GeneratorOptional g = new GeneratorOptional(gen);
                        Tensor t = torch.randint(diffusion.numTimesteps(), new long[] {micro}, g, Tensors.options(ScalarType.Long));
                        Tensor noise = torch.randn(xShape, g, Tensors.options(ScalarType.Float));
                        DenoiserFn fn = denoiser(model, y, dropLabels, nullClass, p, g, micro);
                        GaussianDiffusion.Losses l = diffusion.trainingLosses(fn, x, t, y, noise);
                        Tensor loss = l.loss().mean();
                        loss.div(new Scalar((double) accum)).backward();
                        lossSum += loss.item_double();
                        if (l.mse() != null) mseSum += l.mse().mean().item_double();
                        if (l.vb() != null) vbSum += l.vb().mean().item_double();
                    }
                    optimizer.step();
                    ema.update(Ema.decayAt(config.emaDecay(), config.emaWarmup(), step));
                }
                step++;
                windowSteps++;
                double loss = lossSum / accum;
                losses.add(loss);
                history.add(step, loss);
                bar.set("loss", loss).update(step);
                if (!Double.isFinite(loss)) {
                    throw new IllegalStateException("loss is " + loss + " at step " + step
                            + "; stopping before writing poisoned weights (last checkpoint: " + lastCheckpoint
                            + "). Try a lower --lr.");
                }
                double secs = (System.nanoTime() - windowStart) / 1e9;
                StepStats stats = new StepStats(step, config.steps(), loss, mseSum / accum, vbSum / accum,
                        windowSteps / Math.max(secs, 1e-9), (loader.waitedNanos() - waitedBefore) / 1e9, Rss.current());
                listener.onStep(stats);
                if (step % config.logEvery() == 0 || step == config.steps()) {
                    history.log(stats, config.globalBatch());
                    windowStart = System.nanoTime();
                    windowSteps = 0;
                    waitedBefore = loader.waitedNanos();
                }
                boolean last = step == config.steps();
                if ((config.checkpointEvery() > 0 && step % config.checkpointEvery() == 0) || last) {
                    lastCheckpoint = TrainingCheckpoint.fileFor(ckptDir, step);
                    TrainingCheckpoint.save(lastCheckpoint, step, model, ema.model(), optimizer, checkpointArgs());
                    TrainingCheckpoint.prune(ckptDir, config.keepCheckpoints());
                    history.plot(runDir.resolve("loss.png"));
                }
                if (config.sampleEvery() > 0 && (step % config.sampleEvery() == 0 || last)) {
                    writePreview(ema.model(), step);
                    model.setForm(Form.TRAIN);
                }
            }
        }
        history.plot(runDir.resolve("loss.png"));
        return new Result(step, lastCheckpoint, losses, model, ema.model());
    }

    /**
     * The denoiser for one micro-batch with classifier-free-guidance label dropout: one shared draw per sample by
     * default (all three U-DiT embedders see the null class together, as at sampling time), or the reference's three
     * independent draws.
     */
    private DenoiserFn denoiser(Backbone model, Tensor y, boolean drop, long nullClass, double p, GeneratorOptional g, int n) {
        if (!drop) return (xt, tt, yy) -> model.forward(xt, tt, yy);
        if (config.independentLabelDropout() && model instanceof UDiT u) {
            Tensor y1 = dropped(y, nullClass, p, g, n), y2 = dropped(y, nullClass, p, g, n), y3 = dropped(y, nullClass, p, g, n);
            return (xt, tt, yy) -> u.forward(xt, tt, y1, y2, y3, io.udit.model.Probe.NONE);
        }
        Tensor yd = dropped(y, nullClass, p, g, n);
        return (xt, tt, yy) -> model.forward(xt, tt, yd);
    }

    private static Tensor dropped(Tensor y, long nullClass, double p, GeneratorOptional g, int n) {
        Tensor mask = torch.rand(new long[] {n}, g, Tensors.options(ScalarType.Float)).lt(new Scalar(p));
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
                    config.previewSteps(), config.previewCfgScale(), config.clipDenoised(), config.seed());
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
                    h.points.add(new double[] {s, ((Number) m.get("loss")).doubleValue()});
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

        void log(StepStats s, int globalBatch) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("step", s.step());
            m.put("loss", s.loss());
            m.put("mse", s.mse());
            m.put("vb", s.vb());
            m.put("steps_per_s", s.stepsPerSecond());
            m.put("images_per_s", s.stepsPerSecond() * globalBatch);
            m.put("data_wait_s", s.dataWaitSeconds());
            m.put("rss_mb", s.rssBytes() / 1e6);
            m.put("time", java.time.Instant.now().toString());
            try {
                Files.writeString(log, Json.write(m) + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot append to " + log, e);
            }
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
