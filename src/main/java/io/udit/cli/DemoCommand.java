package io.udit.cli;

import io.udit.bench.CpuUsage;
import io.udit.data.Dataset;
import io.udit.data.FashionMnist;
import io.udit.data.SyntheticShapes;
import io.udit.diffusion.ClassifierFreeGuidance;
import io.udit.dist.DistEnv;
import io.udit.dist.ProcessGroup;
import io.udit.engine.Engine;
import io.udit.engine.NativeScopes;
import io.udit.engine.Tensors;
import io.udit.eval.ClassifierMetrics;
import io.udit.io.AtomicFiles;
import io.udit.io.Json;
import io.udit.io.Npz;
import io.udit.model.Complexity;
import io.udit.model.ModelConfig;
import io.udit.model.ModelConfigs;
import io.udit.report.ImageGrid;
import io.udit.report.ProgressBar;
import io.udit.sample.Previews;
import io.udit.sample.SampleRequest;
import io.udit.sample.Sampling;
import io.udit.train.RunConfig;
import io.udit.train.RunFolder;
import io.udit.train.Trainer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The main job on an embedded default: train a small U-DiT, sample every class, judge the samples with a classifier
 * trained on the same data, and write a report. Needs nothing beyond Maven (the synthetic data is generated).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Train a small U-DiT on built-in data, sample every class, measure class fidelity and a Fréchet"
                + " distance, and write grid.png, loss.png, metrics.json and report.md into a run folder.",
        footer = {"", "Examples:", "  udit demo                                (synthetic shapes, about 13 minutes)",
                "  udit demo --data fashion-mnist --minutes 30",
                "  udit demo --minutes 2 --run-dir runs/quick (a short look; the images stay rough)"})
public final class DemoCommand implements Callable<Integer> {

    @Option(names = "--data", defaultValue = "synthetic",
            description = "synthetic (8 shape classes, generated) or fashion-mnist[:DIR] (default ${DEFAULT-VALUE}).")
    String data;

    @Option(names = "--run-dir", paramLabel = "DIR", description = "Run folder (default runs/udit-<data>-<timestamp>).")
    Path out;

    @Option(names = "--out", hidden = true, paramLabel = "DIR", description = "Old name of --run-dir.")
    void out(Path dir) {
        out = dir;
    }

    /** A year: the longest time budget taken as meant. */
    private static final double MAX_MINUTES = 525_600;

    @Option(names = "--minutes", description = "Training time budget (default: 12 for synthetic, 20 for fashion-mnist).")
    Double minutes;

    @Option(names = "--steps", defaultValue = "20000", description = "Upper bound on training steps (default ${DEFAULT-VALUE}).")
    long steps;

    @Option(names = "--batch", defaultValue = "64", description = "Global training batch, split over the processes (default"
            + " ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--lr", defaultValue = "2e-3", description = "Peak learning rate (default ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--cooldown", description = "Share of the time budget at the end over which the learning rate falls"
            + " linearly to zero (default: 0.3 for synthetic, 0 for fashion-mnist).")
    Double cooldownOption;

    @Option(names = "--per-class", defaultValue = "32", description = "Samples per class for the metrics (default ${DEFAULT-VALUE}).")
    int perClass;

    // synthetic: on the 12-minute demo checkpoint cfg 3 gave 0.852 / FD 13.2 against 0.816 / 20.0 at cfg 4 (2: 0.70,
    // 6: 0.70 on a batch-128 run); fashion-mnist measured 0.981 at cfg 4
    @Option(names = "--cfg-scale", description = "Guidance scale for the final samples (default: 3 for synthetic, 4 for"
            + " fashion-mnist).")
    Double cfgOption;

    @Option(names = "--nproc-per-node", paramLabel = "N", description = "Training processes, one data-parallel job on this machine (default: one per"
            + " core, up to 8, when the machine is otherwise idle; else 1).")
    Integer procs;

    @Option(names = "--procs", hidden = true, paramLabel = "N", description = "Old name of --nproc-per-node.")
    void procs(int n) {
        procs = n;
    }

    @Spec CommandSpec spec;

    // the stochastic solver at 25 steps scores best of the samplers on demo checkpoints (docs/demo.md)
    @Option(names = "--sampler", defaultValue = "dpm++sde", description = "ddpm, ddim, dpm++ or dpm++sde (default ${DEFAULT-VALUE}).")
    String sampler;
    @Option(names = "--sampler-steps", defaultValue = "25", paramLabel = "N", description = "Sampler steps of the final samples"
            + " (default ${DEFAULT-VALUE}).")
    int samplerSteps;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Seed of the data, the initial weights and the"
            + " sampling noise (default ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws Exception {
        long t0 = System.nanoTime();
        Engine.init();
        boolean fashion = data.startsWith("fashion-mnist");
        double cfgScale = cfgOption != null ? cfgOption : fashion ? 4.0 : 3.0;
        Checks.inRange("--sampler-steps", samplerSteps, 1, 100_000);
        Checks.inRange("--cfg-scale", cfgScale, 0, 1000);
        try { // bad sampling options fail now, not after the training
            SampleRequest.builder(new long[] {0}).sampler(sampler).steps(samplerSteps).cfgScale(cfgScale).build();
        } catch (IllegalArgumentException e) {
            throw new UserError("--sampler: " + e.getMessage(), e);
        }
        Checks.inRange("--per-class", perClass, 1, 100_000);
        double cooldown = cooldownOption != null ? cooldownOption : fashion ? 0 : 0.3;
        Checks.inRange("--batch", batch, 1, 1 << 20);
        Checks.inRange("--steps", steps, 1, 1L << 40);
        if (minutes != null && !(minutes > 0 && minutes <= MAX_MINUTES)) {
            throw new UserError("--minutes must be in (0, " + MAX_MINUTES + "], got " + minutes);
        }
        if (!(lr > 0 && lr < 1)) throw new UserError("--lr must be in (0, 1), got " + lr);
        if (!(cooldown >= 0 && cooldown <= 1)) throw new UserError("--cooldown must be in [0, 1], got " + cooldown);
        DistEnv env = Distributed.environment(DistEnv.DEFAULT_TIMEOUT_MILLIS);
        // the launching process checks the folder before anything is made; its ranks find it made and empty
        if (out != null && !env.isDistributed()) RunFolder.check(out, RunFolder.Start.NEW, "choose another --run-dir (the demo never writes over a run)");
        Path fmDir = fashion && data.contains(":") ? Path.of(data.substring(data.indexOf(':') + 1)) : Path.of("/usr/share/datasets/fashion-mnist");
        Dataset train, heldOut;
        try {
            if (fashion) {
                train = new FashionMnist(fmDir, true);
                heldOut = new FashionMnist(fmDir, false);
            } else if (data.equals("synthetic")) {
                // 16x16 keeps the demo inside its time budget; shapes filling 70-95% of the side on plain backgrounds
                // stay legible there (a star's points are 2-3 pixels wide) while position, size, rotation and colours vary
                train = SyntheticShapes.plain(seed, 16, 50_000, 8, 0.70, 0.95);
                heldOut = SyntheticShapes.plain(seed + 1_000_003, 16, 5_000, 8, 0.70, 0.95);
            } else {
                throw new UserError("--data must be synthetic or fashion-mnist[:DIR], got " + data);
            }
        } catch (io.udit.data.DataException e) {
            throw new UserError("--data: " + e.getMessage() + (fashion ? " (install the Debian package dataset-fashion-mnist, or pass fashion-mnist:DIR)" : ""), e);
        }
        ModelConfig model = loadConfig(fashion ? "fashion-mnist" : "synthetic");
        double budget = minutes != null ? minutes : fashion ? 20 : 12; // synthetic: ~13 minutes in all; fashion-mnist: ~23
        Path dir = (out != null ? out : RunDirs.defaultFor(model, fashion ? "fashion-mnist" : "synthetic")).toAbsolutePath();
        // training runs as a data-parallel job of `procs` single-thread processes: the demo's tiny model cannot use two
        // threads in one process, two processes use both cores
        boolean main = env.isMain();
        int n = env.isDistributed() ? env.worldSize() : procs != null ? procs : defaultProcs(batch);
        if (n < 1 || n > batch || batch % n != 0) throw new UserError("--nproc-per-node must divide the batch of " + batch + ", got " + n);
        if (main) {
            Files.createDirectories(dir);
            adaptThreadsToContention();
        }
        if (!env.isDistributed() && n > 1) return runRanks(n, dir);

        Complexity cx = Complexity.of(model);
        if (main) {
            System.err.printf("udit demo: %s; U-DiT with %,d parameters (%.3f GMACs/image); training for up to %.1f minutes%s%n",
                    train.describe(), cx.paramsTrained(), cx.gmacsFolded(), budget,
                    env.isDistributed() ? String.format(" in %d processes x %d thread(s)", env.worldSize(), torch.get_num_threads()) : "");
            System.err.println("run folder: " + dir.toAbsolutePath());
        }

        // the recipe is chosen by measurement (docs/demo.md): lr, min-SNR 5, the shifted cosine schedule, the batch
        RunConfig tc = RunConfig.builder(model, data).globalBatch(batch).steps(steps).lr(lr).emaDecay(0.999).emaWarmup(true)
                .seed(seed).logEvery(50).checkpointEvery(500).keepCheckpoints(2).sampleEvery(500).previewPerClass(4)
                .previewSteps(25).previewCfgScale(4.0).noiseSchedule("cosine-shift0.25").clipDenoised(true).warmupSteps(100)
                .minSnrGamma(5.0).gradClip(1.0).build();
        long tTrain = System.nanoTime();
        Trainer trainer = new Trainer(tc, train, dir, RunFolder.Start.NEW, null)
                .withTimeBudget(Duration.ofSeconds((long) (budget * 60)), cooldown);
        int classes = train.numClasses();
        long[] labels = new long[classes * perClass];
        for (int c = 0; c < classes; c++) for (int i = 0; i < perClass; i++) labels[c * perClass + i] = c;
        SampleRequest req = SampleRequest.builder(labels).sampler(sampler).steps(samplerSteps).cfgScale(cfgScale).seed(seed)
                .clip(true).noiseSchedule(tc.noiseSchedule()).build();
        Trainer.Result r;
        double trainSeconds, sampleSeconds;
        Tensor images;
        // every rank trains, then samples its share of the images (same per-image seeds, same images as one process)
        try (ProcessGroup pg = env.isDistributed() ? Distributed.joinGroup(env) : null;
             ProgressBar bar = main ? new ProgressBar("sample", (labels.length + env.worldSize() - 1) / env.worldSize()) : null) {
            r = (pg != null ? trainer.withProcessGroup(pg) : trainer).run();
            trainSeconds = (System.nanoTime() - tTrain) / 1e9;
            long tSample = System.nanoTime();
            images = NativeScopes.escape(Sampling.generate(r.ema(), req,
                    (done, total, step, stepsTotal) -> { if (bar != null) bar.update(done); }, pg));
            sampleSeconds = (System.nanoTime() - tSample) / 1e9;
        }
        if (!main) return 0; // the other ranks only train and sample
        if (env.isDistributed()) {
            // the other ranks end with the sampling: the cores of this machine's ranks are free for the metrics
            torch.set_num_threads(Math.min(env.worldSize(), Runtime.getRuntime().availableProcessors()));
        }
        int trainProcs = env.worldSize();

        System.err.println("classifier for the metrics (trained once, then cached):");
        ClassifierMetrics judge = ClassifierMetrics.trainOrLoad(train, heldOut,
                ClassifierMetrics.Config.defaults().withMaxTrainSamples(fashion ? 60_000 : 30_000).withProgress(true), System.err::println);

        Map<String, Object> metrics = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope()) {
            ClassifierMetrics.Report rep = judge.evaluate(images, Tensors.longs(labels, labels.length));
            // the grid shows 8 per class; the npz holds all
            int show = Math.min(8, perClass);
            Tensor shown = torch.cat(new org.bytedeco.pytorch.TensorVector(rowsOf(images, classes, perClass, show)), 0);
            AtomicFiles.write(dir.resolve("grid.png"), ImageGrid.png(Previews.gridOf(shown, show, Previews.zoomFor(train.resolution()))));
            Map<String, Tensor> arrays = new LinkedHashMap<>();
            arrays.put("arr_0", Sampling.toUint8Nhwc(images));
            arrays.put("arr_1", Tensors.longs(labels, labels.length));
            Npz.write(dir.resolve("samples.npz"), arrays);

            metrics.put("data", train.describe());
            metrics.put("model", model.toMap());
            metrics.put("params", cx.paramsTrained());
            metrics.put("gmacs_per_image", cx.gmacsFolded());
            metrics.put("train_steps", r.finalStep());
            metrics.put("train_batch", (long) tc.globalBatch());
            metrics.put("train_lr", lr);
            metrics.put("train_lr_cooldown", cooldown);
            metrics.put("train_seconds", trainSeconds);
            metrics.put("train_processes", trainProcs);
            metrics.put("train_images_per_s", r.finalStep() * tc.globalBatch() / trainSeconds);
            metrics.put("final_loss", r.losses().isEmpty() ? null : mean(r.losses(), 50));
            metrics.put("sampler", sampler + " " + samplerSteps + " steps, cfg " + cfgScale);
            metrics.put("sample_seconds", sampleSeconds);
            metrics.put("classifier_train_seconds", judge.trainSeconds());
            metrics.put("classifier_from_cache", judge.fromCache());
            metrics.putAll(rep.toMap());
            metrics.put("class_names", train.classNames());
            metrics.put("total_seconds", (System.nanoTime() - t0) / 1e9);
            metrics.put("threads", Engine.threadSettings());
            AtomicFiles.write(dir.resolve("metrics.json"), Json.writePretty(metrics).getBytes(StandardCharsets.UTF_8));
            AtomicFiles.write(dir.resolve("report.md"), report(metrics, train, rep, dir).getBytes(StandardCharsets.UTF_8));
            System.out.printf("%nclass fidelity %.3f (classifier accuracy on real held-out images %.3f), classifier Fréchet distance %.3f%n",
                    rep.fidelity(), rep.heldOutAccuracy(), rep.frechetDistance());
        }
        System.out.println("demo finished in " + ProgressBar.duration((System.nanoTime() - t0) / 1e9) + "; wrote:");
        for (String f : new String[] {"report.md", "grid.png", "loss.png", "metrics.json", "samples.npz", "log.jsonl", "samples/", "checkpoints/"}) {
            System.out.println("  " + dir.resolve(f).toAbsolutePath());
        }
        return 0;
    }

    static ModelConfig loadConfig(String name) throws IOException {
        try (InputStream in = DemoCommand.class.getResourceAsStream("/demo/" + name + ".json")) {
            if (in == null) throw new IllegalStateException("missing embedded demo config " + name);
            return ModelConfigs.fromMap(Json.parseObject(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
        }
    }

    /**
     * One single-thread process per core, up to 8, as a power of two that divides the batch; 1 on a busy or 1-core
     * machine.
     */
    private static int defaultProcs(int batch) throws InterruptedException {
        int cores = Runtime.getRuntime().availableProcessors() / Math.max(1, torch.get_num_threads());
        if (cores < 2 || batch % 2 != 0) return 1;
        CpuUsage cpu = CpuUsage.start();
        Thread.sleep(500);
        if (cpu.otherShare() > 0.3) return 1;
        int n = Integer.highestOneBit(Math.min(8, cores));
        while (batch % n != 0) n /= 2;
        return n;
    }

    /**
     * Runs the demo as a local job of n child processes and returns rank 0's exit code. Rank 0 is a child too, so that
     * Gloo's connection report, which libtorch writes to the native stdout of every rank, can be filtered out of its
     * output: its stdout is relayed line by line without the report, its stderr (progress bars, messages) byte for
     * byte; the other ranks' output is relayed with a "[rank R]" prefix.
     */
    private int runRanks(int n, Path dir) throws Exception {
        int port = LocalRanks.freePort();
        List<String> cmd = new ArrayList<>();
        List<String> original = spec.commandLine().getParseResult().originalArgs(); // "demo" and its arguments
        for (int i = 0; i < original.size(); i++) {
            String a = original.get(i);
            if (a.equals("--run-dir") || a.equals("--out")) {
                i++; // the folder is passed below, resolved once (a default name has a timestamp)
            } else if (!a.startsWith("--run-dir=") && !a.startsWith("--out=")) {
                cmd.add(a);
            }
        }
        cmd.add("--run-dir");
        cmd.add(dir.toString());
        List<Process> ranks = new ArrayList<>();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> ranks.forEach(Process::destroy)));
        List<Thread> relays = new ArrayList<>();
        for (int rank = 0; rank < n; rank++) {
            Process p = LocalRanks.start(rank, n, "127.0.0.1", port, torch.get_num_threads(), cmd, rank == 0);
            ranks.add(p);
            if (rank == 0) {
                relays.add(LocalRanks.relay(p, "", System.out));
                relays.add(LocalRanks.copy(p.getErrorStream(), System.err));
            } else {
                relays.add(LocalRanks.relay(p, "[rank " + rank + "] ", System.err));
            }
        }
        int code = ranks.get(0).waitFor();
        for (int rank = 1; rank < n; rank++) {
            // the other ranks end with rank 0 (the same training and sampling); a rank left hanging is stopped
            if (!ranks.get(rank).waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) ranks.get(rank).destroy();
        }
        for (Thread t : relays) t.join(5_000);
        return code;
    }

    /** On a busy machine two OpenMP threads collapse (barriers wait on descheduled threads): use one. */
    private static void adaptThreadsToContention() throws InterruptedException {
        if (torch.get_num_threads() < 2 || System.getenv("UDIT_THREADS") != null) return;
        CpuUsage cpu = CpuUsage.start();
        Thread.sleep(1000);
        double other = cpu.otherShare();
        if (other > 0.3) {
            torch.set_num_threads(1);
            System.err.printf("note: other processes use %.0f%% of the CPU; running libtorch on 1 thread (set UDIT_THREADS to override)%n", 100 * other);
        }
    }

    private static Tensor[] rowsOf(Tensor images, int classes, int perClass, int show) {
        Tensor[] rows = new Tensor[classes];
        for (int c = 0; c < classes; c++) rows[c] = images.narrow(0, (long) c * perClass, show);
        return rows;
    }

    private static double mean(java.util.List<Double> v, int last) {
        double s = 0;
        int n = Math.min(last, v.size());
        for (int i = v.size() - n; i < v.size(); i++) s += v.get(i);
        return s / n;
    }

    private static String report(Map<String, Object> m, Dataset data, ClassifierMetrics.Report rep, Path dir) {
        StringBuilder sb = new StringBuilder();
        sb.append("# udit demo report\n\n");
        sb.append("Data: ").append(data.describe()).append("  \n");
        sb.append(String.format("Model: U-DiT, %,d parameters, %.3f GMACs per image (config in config.json)  %n", (Long) m.get("params"), (Double) m.get("gmacs_per_image")));
        double cool = (Double) m.get("train_lr_cooldown");
        sb.append(String.format("Training: %d steps of batch %d in %.1f min (%.0f images/s), lr %.1e%s, final loss %.4f  %n",
                (Long) m.get("train_steps"), (Long) m.get("train_batch"), (Double) m.get("train_seconds") / 60, (Double) m.get("train_images_per_s"),
                (Double) m.get("train_lr"), cool > 0 ? String.format(" (falling to 0 over the last %.0f%% of the time)", 100 * cool) : "",
                m.get("final_loss")));
        sb.append("Sampling: ").append(m.get("sampler")).append(String.format(", %.0f s for %d images%n%n", (Double) m.get("sample_seconds"), rep.samples()));
        sb.append("## Metrics\n\n| metric | value |\n|---|---|\n");
        sb.append(String.format("| class fidelity (share classified as the requested class) | %.3f |%n", rep.fidelity()));
        sb.append(String.format("| classifier accuracy on real held-out images (the ceiling) | %.3f |%n", rep.heldOutAccuracy()));
        sb.append(String.format("| Fréchet distance of classifier features, generated vs %d real | %.3f |%n%n", rep.realSamples(), rep.frechetDistance()));
        sb.append("| class | fidelity |\n|---|---|\n");
        for (int c = 0; c < data.numClasses(); c++) {
            sb.append(String.format("| %s | %.3f |%n", data.classNames().get(c), rep.perClassFidelity()[c]));
        }
        sb.append("\n## Samples (one row per class)\n\n![samples](grid.png)\n\n## Loss\n\n![loss](loss.png)\n\n");
        sb.append("Previews during training are in `samples/`, checkpoints in `checkpoints/` (load one with\n");
        sb.append("`./udit sample --weights ").append(dir.resolve("checkpoints")).append("/step_NNNNNNN.pt`).\n");
        return sb.toString();
    }
}
