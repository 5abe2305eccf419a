package io.udit.experiment;

import io.udit.bench.Benchmark;
import io.udit.data.Dataset;
import io.udit.data.Datasets;
import io.udit.engine.Engine;
import io.udit.engine.NativeScopes;
import io.udit.engine.Tensors;
import io.udit.eval.AdmEvaluator;
import io.udit.eval.ClassifierMetrics;
import io.udit.io.AtomicFiles;
import io.udit.io.Json;
import io.udit.io.Npz;
import io.udit.model.Backbone;
import io.udit.sample.SampleRequest;
import io.udit.sample.Sampling;
import io.udit.train.RunConfig;
import io.udit.train.RunFolder;
import io.udit.train.SampleEvaluator;
import io.udit.train.Trainer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Runs an experiment: every selected arm x seed is trained in segments up to each evaluation fraction (resume is
 * exact, so the segments give the run an uninterrupted one would), evaluated there with the shared judge on fixed
 * evaluation noise, and the record written at once. Runs and evaluations already on disk are skipped, so running
 * again after a kill completes only what is missing.
 */
public final class ExperimentRunner {
    /** What to run: the experiment, its folder, the budget scale, an optional subset, optional Inception weights. */
    public record Options(ExperimentSpec spec, Path out, double budgetScale, List<Selection> only, Path inception) {
        public Options {
            if (!(budgetScale > 0 && budgetScale <= 1e6)) throw new IllegalArgumentException("--budget-scale must be in (0, 1e6], got " + budgetScale);
            only = List.copyOf(only);
            for (Selection s : only) {
                spec.arm(s.arm());
                if (s.seed() != null && !spec.seeds().contains(s.seed())) {
                    throw new IllegalArgumentException("--only " + s.arm() + ":" + s.seed() + ": seed " + s.seed() + " is not among the experiment's seeds " + spec.seeds());
                }
            }
        }

        boolean selected(String arm, long seed) {
            return only.isEmpty() || only.stream().anyMatch(s -> s.arm().equals(arm) && (s.seed() == null || s.seed() == seed));
        }
    }

    /** {@code ARM} or {@code ARM:SEED}. */
    public record Selection(String arm, Long seed) {
        public static Selection parse(String s) {
            int i = s.lastIndexOf(':');
            if (i < 0) return new Selection(s, null);
            try {
                return new Selection(s.substring(0, i), Long.parseLong(s.substring(i + 1)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--only takes ARM or ARM:SEED, got " + s);
            }
        }
    }

    private final Options o;
    private final ExperimentDir dir;
    private final Consumer<String> log;

    public ExperimentRunner(Options options, Consumer<String> log) {
        this.o = options;
        this.dir = new ExperimentDir(options.out());
        this.log = log;
    }

    private Dataset train;
    private SampleEvaluator evaluator;

    private final List<Selection> inUse = new ArrayList<>();

    /**
     * Everything the runs share, done once: the run folders checked, the experiment state claimed, the judge trained
     * (or loaded from its cache) and every selected arm calibrated.
     */
    public void prepare() throws IOException {
        ExperimentSpec spec = o.spec();
        checkRunFolders();
        dir.claim(spec, o.budgetScale());
        prepareEvaluation();
        List<ExperimentSpec.Arm> uncalibrated = new ArrayList<>();
        for (ExperimentSpec.Arm arm : spec.arms()) {
            boolean selected = spec.seeds().stream().anyMatch(s -> o.selected(arm.name(), s));
            if (selected && !Files.exists(dir.calibrationFile(arm.name()))) uncalibrated.add(arm);
        }
        calibrate(uncalibrated);
    }

    /** The data, the judge (trained or loaded from its cache) and, with Inception weights, the reference batch. */
    private void prepareEvaluation() throws IOException {
        ExperimentSpec spec = o.spec();
        Engine.init();
        RunConfig first = spec.runConfig(spec.arms().get(0), spec.seeds().get(0), o.budgetScale());
        train = open(first);
        Dataset heldOut = SampleEvaluator.heldOutSplit(first); // null: the judge holds out the end of the training data
        ClassifierMetrics.Config judgeConfig = spec.evaluation().judge().withProgress(true);
        ClassifierMetrics judge = heldOut != null ? ClassifierMetrics.trainOrLoad(train, heldOut, judgeConfig, log)
                : ClassifierMetrics.trainOrLoad(train, judgeConfig, log);
        Path reference = o.inception() == null ? null : referenceBatch(heldOut != null ? heldOut : train);
        AdmEvaluator adm = reference == null ? null : AdmEvaluator.load(o.inception(), AdmEvaluator.Options.defaults().withProgress(false));
        evaluator = new SampleEvaluator(judge, adm, reference, train.classNames(), Sampling::toUint8Nhwc);
    }

    /**
     * The selected arm x seed pairs with an evaluation still missing, seed by seed (every arm's first seed before any
     * arm's second), so a partial experiment already compares all its arms.
     */
    public List<Selection> pending() throws IOException {
        List<Selection> out = new ArrayList<>();
        for (long seed : o.spec().seeds()) {
            for (ExperimentSpec.Arm arm : o.spec().arms()) {
                List<Long> steps = o.spec().evaluationSteps(arm, o.budgetScale());
                if (!o.selected(arm.name(), seed)) continue;
                List<Long> done = EvalRecord.readAll(dir.runDir(arm.name(), seed)).stream().map(EvalRecord::step).toList();
                if (!done.containsAll(steps)) out.add(new Selection(arm.name(), seed));
            }
        }
        return out;
    }

    /** The runs {@link #run} skipped because other processes held their folders. */
    public List<Selection> inUse() {
        return List.copyOf(inUse);
    }

    /** Prepares, then trains and evaluates what is missing; returns the number of evaluations written. */
    public int run() throws IOException {
        prepare();
        int written = 0;
        for (Selection s : pending()) written += runOne(o.spec().arm(s.arm()), s.seed());
        return written;
    }

    /**
     * One point of a sweep: an arm's finished run of one seed, sampled with {@code sampler} at {@code steps} and
     * guidance scale {@code cfgScale}.
     */
    public record SweepPoint(String arm, long seed, String sampler, int steps, double cfgScale, Map<String, Double> metrics) {
        /** A guidance scale as written in file names and tables: 1, 1.5, 4. */
        public static String scaleText(double cfgScale) {
            return java.math.BigDecimal.valueOf(cfgScale).stripTrailingZeros().toPlainString();
        }
    }

    /**
     * Scores the finished runs of {@code armName} (every selected seed) again with {@code sampler} (null: the arm's
     * own) at each of {@code stepsList} sampler steps (empty: the arm's own) and each of {@code cfgScales} guidance
     * scales (empty: the evaluation's), on the evaluation's labels and noise: how many steps each training objective's
     * sampler needs, and which guidance suits it. Each point is written to
     * {@code DIR/sweeps/ARM/SAMPLER/seed-S/steps_N.json} ({@code steps_N_cfgX.json} at a scale other than the
     * evaluation's) with its grid, and skipped when it is already there. The plots of {@link SweepPlots} are then
     * drawn again over every point in {@code DIR/sweeps}.
     */
    public List<SweepPoint> sweep(String armName, String sampler, List<Integer> stepsList, List<Double> cfgScales) throws IOException {
        ExperimentSpec spec = o.spec();
        ExperimentSpec.Arm arm = spec.arm(armName);
        Evaluation ev = spec.evaluation();
        // a value given twice is one point
        List<Integer> stepCounts = stepsList == null || stepsList.isEmpty() ? List.of(spec.samplerSteps(arm)) : stepsList.stream().distinct().toList();
        List<Double> scales = cfgScales == null || cfgScales.isEmpty() ? List.of(ev.cfgScale()) : cfgScales.stream().map(x -> x + 0.0).distinct().toList(); // -0 is 0
        checkRunFolders();
        dir.claim(spec, o.budgetScale());
        ExperimentSpec.Arm swept = new ExperimentSpec.Arm(arm.name(), arm.description(), arm.model(), arm.run(),
                sampler != null ? sampler : arm.sampler() != null ? arm.sampler() : ev.sampler(), null);
        List<Path> finals = new ArrayList<>();
        for (long seed : spec.seeds()) {
            if (!o.selected(armName, seed)) continue;
            RunConfig full = spec.runConfig(arm, seed, o.budgetScale());
            Path ckpt = io.udit.train.TrainingCheckpoint.fileFor(dir.runDir(armName, seed).resolve("checkpoints"), full.steps());
            if (!Files.isRegularFile(ckpt)) {
                throw new IllegalArgumentException("arm " + armName + " seed " + seed + " has not finished training (no " + ckpt
                        + "); run the experiment first");
            }
            finals.add(ckpt);
        }
        prepareEvaluation();
        long[] labels = ev.labels(train.numClasses());
        List<SweepPoint> out = new ArrayList<>();
        int i = 0;
        for (long seed : spec.seeds()) {
            if (!o.selected(armName, seed)) continue;
            RunConfig full = spec.runConfig(arm, seed, o.budgetScale());
            Backbone ema = full.model().build(0), model = full.model().build(0);
            io.udit.train.TrainingCheckpoint.load(finals.get(i++), model, ema, null);
            Path pointDir = o.out().resolve("sweeps").resolve(armName).resolve(swept.sampler()).resolve("seed-" + seed);
            for (double cfg : scales) {
                String scaleTag = cfg == ev.cfgScale() ? "" : "_cfg" + SweepPoint.scaleText(cfg);
                for (int steps : stepCounts) {
                    Path record = pointDir.resolve(String.format("steps_%05d%s.json", steps, scaleTag));
                    Map<String, Double> metrics;
                    if (Files.isRegularFile(record)) {
                        metrics = readMetrics(record);
                    } else {
                        ExperimentSpec.Arm at = new ExperimentSpec.Arm(arm.name(), arm.description(), arm.model(), arm.run(), swept.sampler(), steps);
                        SampleRequest req = spec.sampleRequest(at, full, labels, train.isImage(), cfg);
                        metrics = evaluator.evaluate(ema, req, ev.perClass(), full.steps(), pointDir.resolve("steps_" + steps + scaleTag)).metrics();
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("arm", armName);
                        m.put("seed", seed);
                        m.put("sampler", swept.sampler());
                        m.put("steps", steps);
                        m.put("cfg_scale", cfg);
                        m.put("training_step", full.steps());
                        m.put("metrics", metrics);
                        AtomicFiles.write(record, Json.writePretty(m).getBytes(StandardCharsets.UTF_8));
                    }
                    log.accept(String.format(java.util.Locale.ROOT, "sweep %s seed %d %s %d steps, guidance %s: Fréchet distance %.4f, fidelity %.3f",
                            armName, seed, swept.sampler(), steps, SweepPoint.scaleText(cfg), metrics.get("frechet_distance"), metrics.get("fidelity")));
                    out.add(new SweepPoint(armName, seed, swept.sampler(), steps, cfg, metrics));
                }
            }
        }
        for (Path plot : SweepPlots.write(o.out().resolve("sweeps"), ev.cfgScale())) log.accept("plot: " + plot);
        return out;
    }

    private static Map<String, Double> readMetrics(Path record) throws IOException {
        Map<String, Object> m = Json.parseObject(Files.readString(record, StandardCharsets.UTF_8));
        Map<String, Double> out = new LinkedHashMap<>();
        if (m.get("metrics") instanceof Map<?, ?> mm) mm.forEach((k, v) -> out.put(String.valueOf(k), v instanceof Number n ? n.doubleValue() : Double.NaN));
        return out;
    }

    /** A run folder that holds a run of another config is an error naming it, found before any training starts. */
    private void checkRunFolders() throws IOException {
        for (ExperimentSpec.Arm arm : o.spec().arms()) {
            for (long seed : o.spec().seeds()) {
                Path cfg = dir.runDir(arm.name(), seed).resolve("config.json");
                if (!o.selected(arm.name(), seed) || !Files.isRegularFile(cfg)) continue;
                RunConfig saved;
                try {
                    saved = RunConfig.fromMap(Json.parseObject(Files.readString(cfg, StandardCharsets.UTF_8)));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(cfg + ": not a run config (" + e.getMessage() + "); nothing was changed", e);
                }
                List<String> diff = saved.identityDifferences(o.spec().runConfig(arm, seed, o.budgetScale()));
                if (!diff.isEmpty()) {
                    throw new IllegalArgumentException(cfg.getParent() + " holds a run of another config (" + String.join("; ", diff)
                            + "); move it away or use another --out folder (nothing was changed)");
                }
            }
        }
    }

    private static Dataset open(RunConfig c) {
        Datasets.Options opts = new Datasets.Options().unconditional(c.unconditional());
        if (c.resolution() != null) opts.resolution(c.resolution());
        return Datasets.open(c.data(), opts);
    }

    /** Rounds of calibration: every arm is timed once per round, the rounds one after the other. */
    static final int CALIBRATION_ROUNDS = 3;

    /**
     * Each arm's seconds per training step at the recipe's batch, measured once and kept in {@code arms/ARM.json}:
     * {@link #CALIBRATION_ROUNDS} rounds, in each of which every arm runs 2 warm-up and 5 timed steps, and the fastest
     * step over all rounds counts (other load only ever adds time). Interleaving the arms spreads a slow phase of the
     * machine over all of them instead of charging it to the arm that happened to be timed then. Delete
     * {@code arms/ARM.json} and run again to measure anew.
     */
    private void calibrate(List<ExperimentSpec.Arm> arms) throws IOException {
        if (arms.isEmpty()) return;
        log.accept("calibrating " + arms.size() + " arm(s): seconds per training step, " + CALIBRATION_ROUNDS + " interleaved rounds");
        Map<String, Integer> batch = new LinkedHashMap<>();
        for (ExperimentSpec.Arm arm : arms) batch.put(arm.name(), o.spec().runConfig(arm, o.spec().seeds().get(0), o.budgetScale()).globalBatch());
        Map<String, List<Map<String, Object>>> rounds = new LinkedHashMap<>();
        for (int round = 0; round < CALIBRATION_ROUNDS; round++) {
            for (ExperimentSpec.Arm arm : arms) {
                rounds.computeIfAbsent(arm.name(), k -> new ArrayList<>()).add(Benchmark.run(arm.name(), arm.model(),
                        new Benchmark.Settings(Benchmark.Mode.TRAIN, batch.get(arm.name()), 2, 5, "ddim", 1, Benchmark.DEFAULT_PEAK_GFLOPS)));
            }
        }
        for (ExperimentSpec.Arm arm : arms) {
            List<Map<String, Object>> bs = rounds.get(arm.name());
            List<Object> mins = new ArrayList<>(), medians = new ArrayList<>(), times = new ArrayList<>();
            double best = Double.POSITIVE_INFINITY, other = 0;
            boolean quiet = true;
            for (Map<String, Object> b : bs) {
                double min = ((Number) b.get("min_s")).doubleValue();
                best = Math.min(best, min);
                mins.add(b.get("min_s"));
                medians.add(b.get("median_s"));
                times.add(b.get("times_s"));
                other = Math.max(other, ((Number) b.get("other_processes_cpu_share")).doubleValue());
                quiet &= Boolean.TRUE.equals(b.get("quiet_machine"));
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("arm", arm.name());
            m.put("seconds_per_step", best);
            m.put("batch", batch.get(arm.name()));
            m.put("rounds", CALIBRATION_ROUNDS);
            m.put("min_seconds_per_round", mins);
            m.put("median_seconds_per_round", medians);
            m.put("times_s", times);
            m.put("other_processes_cpu_share", other); // the busiest round's
            m.put("quiet_machine", quiet);
            m.put("threads", bs.get(0).get("threads"));
            Path f = dir.calibrationFile(arm.name());
            Files.createDirectories(f.getParent());
            AtomicFiles.write(f, Json.writePretty(m).getBytes(StandardCharsets.UTF_8));
        }
    }

    /**
     * Trains and evaluates what one arm x seed misses, holding its run folder throughout (training segments and the
     * evaluations between them). A folder another process holds is skipped and listed in {@link #inUse()}.
     */
    private int runOne(ExperimentSpec.Arm arm, long seed) throws IOException {
        Path runDir = dir.runDir(arm.name(), seed);
        Files.createDirectories(runDir.getParent());
        RunFolder folder;
        try {
            folder = RunFolder.open(runDir, RunFolder.Start.RESUME);
        } catch (RunFolder.InUseException e) {
            log.accept(arm.name() + " seed " + seed + ": skipped, " + e.getMessage());
            inUse.add(new Selection(arm.name(), seed));
            return 0;
        }
        try (folder) {
            return trainAndEvaluate(arm, seed, folder);
        }
    }

    private int trainAndEvaluate(ExperimentSpec.Arm arm, long seed, RunFolder folder) throws IOException {
        Path runDir = folder.dir();
        List<Long> done = new ArrayList<>();
        double seconds = 0;
        for (EvalRecord r : EvalRecord.readAll(runDir)) {
            done.add(r.step());
            seconds = Math.max(seconds, r.trainSeconds());
        }
        RunConfig full = o.spec().runConfig(arm, seed, o.budgetScale());
        List<Long> steps = o.spec().evaluationSteps(arm, o.budgetScale());
        int written = 0;
        for (long target : steps) {
            if (done.contains(target)) continue;
            log.accept(String.format("%s seed %d: training to step %d of %d", arm.name(), seed, target, full.steps()));
            RunConfig segment = full.toBuilder().steps(target).build();
            long t0 = System.nanoTime();
            Trainer.Result r = new Trainer(segment, train, runDir, RunFolder.Start.RESUME, null).withRunFolder(folder.lend()).run();
            seconds += (System.nanoTime() - t0) / 1e9;
            if (r.finalStep() != target) throw new IllegalStateException(runDir + ": training stopped at step " + r.finalStep() + ", not " + target);
            Map<String, Double> metrics = evaluate(arm, r.ema(), runDir, target, full);
            long images = target * full.globalBatch();
            double fraction = (double) target / full.steps();
            new EvalRecord(arm.name(), seed, fraction, target, images, 3.0 * arm.macsPerImage() * images, seconds, metrics).write(runDir);
            log.accept(String.format("%s seed %d step %d: Fréchet distance %.4f, fidelity %.3f", arm.name(), seed, target,
                    metrics.get("frechet_distance"), metrics.get("fidelity")));
            written++;
        }
        return written;
    }

    private Map<String, Double> evaluate(ExperimentSpec.Arm arm, Backbone ema, Path runDir, long step, RunConfig run) throws IOException {
        Evaluation ev = o.spec().evaluation();
        SampleRequest req = o.spec().sampleRequest(arm, run, ev.labels(train.numClasses()), train.isImage());
        return evaluator.evaluate(ema, req, ev.perClass(), step, runDir.resolve(EvalRecord.DIR)).metrics();
    }

    /** The held-out images as an ADM reference batch ({@code reference.npz} in the experiment folder), written once. */
    private Path referenceBatch(Dataset heldOut) throws IOException {
        Path f = o.out().resolve("reference.npz");
        if (Files.exists(f)) return f;
        int n = Math.min(heldOut.size(), 2 * o.spec().evaluation().perClass() * heldOut.numClasses());
        int per = heldOut.channels() * heldOut.resolution() * heldOut.resolution();
        float[] all = new float[n * per], one = new float[per];
        long[] labels = new long[n];
        java.util.SplittableRandom rng = new java.util.SplittableRandom(0);
        for (int i = 0; i < n; i++) {
            labels[i] = heldOut.read(i, one, rng);
            System.arraycopy(one, 0, all, i * per, per);
        }
        try (PointerScope scope = new PointerScope()) {
            Tensor x = Tensors.floats(all, new long[] {n, heldOut.channels(), heldOut.resolution(), heldOut.resolution()});
            Map<String, Tensor> arrays = new LinkedHashMap<>();
            arrays.put("arr_0", NativeScopes.escape(Sampling.toUint8Nhwc(x)));
            Npz.write(f, arrays);
        }
        return f;
    }
}
