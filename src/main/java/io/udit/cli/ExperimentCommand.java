package io.udit.cli;

import io.udit.experiment.ExperimentReport;
import io.udit.experiment.ExperimentRunner;
import io.udit.experiment.ExperimentSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code udit experiment run FILE --out DIR}, {@code udit experiment report DIR} and {@code udit experiment sweep}. */
@Command(name = "experiment", mixinStandardHelpOptions = true,
        description = "Compare models (arms) under one recipe over several seeds: train, evaluate at fractions of training, report.",
        footer = {"", "Examples:", "  udit experiment run experiments/paper-claim.json --out runs/paper-claim --jobs 2",
                "  udit experiment report runs/paper-claim",
                "  udit experiment sweep experiments/flow-vs-ddpm.json --out runs/fvd --arm flow \\",
                "        --sampler-steps 4,7,13"},
        subcommands = {ExperimentCommand.Run.class, ExperimentCommand.Report.class, ExperimentCommand.Sweep.class})
public final class ExperimentCommand implements Runnable {
    @Override
    public void run() {
        throw new UserError("give a subcommand: run FILE --out DIR, report DIR, or sweep FILE --out DIR --arm ARM");
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = {"Train and evaluate every arm x seed of an experiment file into DIR/runs/ARM/seed-S (ordinary run folders),",
                    "then write the report. Running it again resumes unfinished runs and skips finished ones."},
            footer = {"", "Examples:", "  udit experiment run experiments/ladder.json --out runs/ladder --jobs 2",
                    "  udit experiment run experiments/ladder.json --out runs/ladder --only +rope2d:1",
                    "  udit experiment run experiments/paper-claim.json --out runs/paper-claim-x10 --budget-scale 10"})
    static final class Run implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "FILE", description = "Experiment file (JSON), e.g. experiments/paper-claim.json.")
        Path file;

        @Option(names = {"--out", "--out-dir"}, required = true, paramLabel = "DIR",
                description = "Experiment folder (created; reused when it holds this experiment). --out-dir is the same option.")
        Path out;

        @Option(names = "--only", paramLabel = "ARM[:SEED]", split = ",", description = "Run only these arms (or arm:seed pairs); repeatable (default: every arm and seed).")
        List<String> only = new ArrayList<>();

        @Option(names = "--budget-scale", defaultValue = "1", paramLabel = "X",
                description = "Multiply every arm's training length (steps or compute budget) by X, e.g. 10 on a bigger machine (default ${DEFAULT-VALUE}).")
        double budgetScale;

        @Option(names = "--inception", paramLabel = "WEIGHTS",
                description = "FID Inception weights (pytorch-fid's pt_inception-2015-12-05 .pth): adds FID, sFID, IS, precision and recall"
                        + " (default: none, the judge classifier's metrics only).")
        Path inception;

        @Option(names = "--jobs", defaultValue = "1", paramLabel = "N",
                description = "Train N runs at once, each in its own single-thread process (default ${DEFAULT-VALUE}: one at a time in this"
                        + " process). The judge and the calibrations are done first, here, so they are measured alone.")
        int jobs;

        @Option(names = "--no-report", description = "Do not write the report at the end (for the processes that --jobs starts).")
        boolean noReport;

        @Override
        public Integer call() throws Exception {
            if (jobs < 1 || jobs > 64) throw new UserError("--jobs must be in 1..64, got " + jobs);
            ExperimentRunner.Options options;
            try {
                io.udit.engine.FileKinds.requireRegular(file, "experiment file");
                if (inception != null) io.udit.engine.FileKinds.requireRegular(inception, "--inception");
                io.udit.engine.FileKinds.requireFolderOrMissing(out, "--out");
                ExperimentSpec spec = ExperimentSpec.read(file);
                List<ExperimentRunner.Selection> sel = new ArrayList<>();
                for (String s : only) sel.add(ExperimentRunner.Selection.parse(s));
                options = new ExperimentRunner.Options(spec, out, budgetScale, sel, inception);
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage(), e);
            }
            ExperimentRunner runner = new ExperimentRunner(options, System.err::println);
            String result;
            try {
                if (jobs == 1) {
                    result = runner.run() + " new evaluation(s)";
                    int busy = runner.inUse().size();
                    if (busy > 0) result += "; " + busy + " run(s) in use by other processes (run this again once they end)";
                } else {
                    runner.prepare();
                    result = inProcesses(runner.pending()) + " run(s) trained in " + jobs + " processes";
                }
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage(), e);
            }
            if (!noReport) ExperimentReport.write(out);
            System.out.println("experiment " + options.spec().name() + ": " + result + (noReport ? "" : "; report: " + out.resolve("report.md")));
            return 0;
        }

        /** Runs each pending arm x seed as {@code experiment run --only ARM:SEED} in a child process, {@code jobs} at a time. */
        private int inProcesses(List<ExperimentRunner.Selection> pending) throws Exception {
            java.util.Deque<ExperimentRunner.Selection> queue = new java.util.ArrayDeque<>(pending);
            java.util.Map<Process, String> running = new java.util.LinkedHashMap<>();
            List<String> failed = new ArrayList<>();
            Thread hook = new Thread(() -> running.keySet().forEach(Process::destroy));
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                while (!queue.isEmpty() || !running.isEmpty()) {
                    while (running.size() < jobs && !queue.isEmpty()) {
                        ExperimentRunner.Selection s = queue.poll();
                        String name = s.arm() + ":" + s.seed();
                        Process p = child(name).start();
                        LocalRanks.relay(p, "[" + name + "] ", System.err);
                        running.put(p, name);
                    }
                    Thread.sleep(200);
                    for (var it = running.entrySet().iterator(); it.hasNext(); ) {
                        var e = it.next();
                        if (e.getKey().isAlive()) continue;
                        if (e.getKey().exitValue() != 0) failed.add(e.getValue() + " (exit " + e.getKey().exitValue() + ")");
                        it.remove();
                    }
                }
            } finally {
                Runtime.getRuntime().removeShutdownHook(hook);
            }
            if (!failed.isEmpty()) throw new IllegalStateException("runs failed: " + String.join(", ", failed) + "; see their lines above");
            return pending.size();
        }

        private ProcessBuilder child(String only) {
            String java = ProcessHandle.current().info().command().orElse("java");
            List<String> cmd = new ArrayList<>(List.of(java, "-Xmx2g", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                    Main.class.getName(), "experiment", "run", file.toString(), "--out", out.toString(), "--only", only,
                    "--budget-scale", String.valueOf(budgetScale), "--no-report"));
            if (inception != null) cmd.addAll(List.of("--inception", inception.toString()));
            String device = System.getProperty("udit.device");
            if (device != null) cmd.addAll(List.of("--device", device));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().put("OMP_NUM_THREADS", "1");
            pb.environment().put("OPENBLAS_NUM_THREADS", "1");
            return pb;
        }
    }

    @Command(name = "report", mixinStandardHelpOptions = true,
            description = "Write report.md, results.csv, results.json and the plots of an experiment folder (finished or not).",
            footer = {"", "Examples:", "  udit experiment report runs/ladder"})
    static final class Report implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "DIR", description = "Experiment folder.")
        Path dir;

        @Override
        public Integer call() throws Exception {
            io.udit.engine.FileKinds.requireFolder(dir, "experiment folder");
            ExperimentReport.write(dir);
            System.out.println("report: " + dir.resolve("report.md"));
            return 0;
        }
    }

    @Command(name = "sweep", mixinStandardHelpOptions = true,
            description = {"Score an arm's finished runs again at several sampler step counts or guidance scales (the evaluation's",
                    "labels and noise, every seed): how many steps its sampler needs, and which guidance suits it. Points are",
                    "written to DIR/sweeps/ARM/SAMPLER/ and skipped when there."},
            footer = {"", "Examples:",
                    "  udit experiment sweep experiments/flow-vs-ddpm.json --out runs/fvd --arm flow \\",
                    "        --sampler-steps 4,7,13",
                    "  udit experiment sweep experiments/flow-vs-ddpm.json --out runs/fvd --arm ddpm \\",
                    "        --sampler ddim --sampler-steps 10,25,50",
                    "  udit experiment sweep experiments/flow-vs-ddpm.json --out runs/fvd --arm flow \\",
                    "        --cfg-scales 1,1.5,2,3,4,6"})
    static final class Sweep implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "FILE", description = "The experiment file the folder was run from.")
        Path file;

        @Option(names = {"--out", "--out-dir"}, required = true, paramLabel = "DIR",
                description = "Experiment folder holding the finished runs. --out-dir is the same option.")
        Path out;

        @Option(names = "--arm", required = true, paramLabel = "ARM", description = "The arm whose runs to sample.")
        String arm;

        @Option(names = "--sampler", paramLabel = "NAME", description = "Sampler (default: the arm's own evaluation sampler).")
        String sampler;

        @Option(names = "--sampler-steps", split = ",", paramLabel = "N[,N...]",
                description = "Sampler step counts to score, e.g. 5,10,25,50 (default: the arm's evaluation steps).")
        List<Integer> steps = new ArrayList<>();

        @Option(names = "--cfg-scales", split = ",", paramLabel = "X[,X...]",
                description = "Guidance scales to score, each in [0, 1000], e.g. 1,2,4 (default: the evaluation's cfg_scale).")
        List<Double> cfgScales = new ArrayList<>();

        @Option(names = "--only", paramLabel = "SEED", split = ",", description = "Only these seeds (default: every seed).")
        List<Long> seeds = new ArrayList<>();

        @Option(names = "--budget-scale", defaultValue = "1", paramLabel = "X", description = "The scale the folder was run with (default ${DEFAULT-VALUE}).")
        double budgetScale;

        @Override
        public Integer call() throws Exception {
            for (int n : steps) Checks.inRange("--sampler-steps", n, 1, 10_000);
            for (double x : cfgScales) Checks.inRange("--cfg-scales", x, 0, 1000);
            List<ExperimentRunner.SweepPoint> points;
            try {
                io.udit.engine.FileKinds.requireRegular(file, "experiment file");
                io.udit.engine.FileKinds.requireFolder(out, "--out");
                ExperimentSpec spec = ExperimentSpec.read(file);
                List<ExperimentRunner.Selection> sel = new ArrayList<>();
                if (seeds.isEmpty()) sel.add(new ExperimentRunner.Selection(arm, null));
                for (long s : seeds) sel.add(new ExperimentRunner.Selection(arm, s));
                var options = new ExperimentRunner.Options(spec, out, budgetScale, sel, null);
                points = new ExperimentRunner(options, System.err::println).sweep(arm, sampler, steps, cfgScales);
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage(), e);
            }
            System.out.println(table(points));
            return 0;
        }

        /** Mean +- sd over seeds per guidance scale and step count, as a Markdown table. */
        static String table(List<ExperimentRunner.SweepPoint> points) {
            StringBuilder b = new StringBuilder("| arm | sampler | steps | guidance | Fréchet distance | fidelity | seeds |\n|---|---|---|---|---|---|---|\n");
            java.util.Map<List<Double>, List<ExperimentRunner.SweepPoint>> byPoint = new java.util.TreeMap<>(
                    java.util.Comparator.<List<Double>, Double>comparing(k -> k.get(0)).thenComparing(k -> k.get(1)));
            for (var p : points) byPoint.computeIfAbsent(List.of(p.cfgScale(), (double) p.steps()), k -> new ArrayList<>()).add(p);
            for (var e : byPoint.values()) {
                var fd = io.udit.experiment.Spread.of(e.stream().map(p -> p.metrics().getOrDefault("frechet_distance", Double.NaN)).toList());
                var fi = io.udit.experiment.Spread.of(e.stream().map(p -> p.metrics().getOrDefault("fidelity", Double.NaN)).toList());
                var first = e.get(0);
                b.append(String.format(java.util.Locale.ROOT, "| %s | %s | %d | %s | %.3f ± %.3f | %.3f ± %.3f | %d |%n", first.arm(), first.sampler(),
                        first.steps(), ExperimentRunner.SweepPoint.scaleText(first.cfgScale()), fd.mean(), fd.std(), fi.mean(), fi.std(), fd.n()));
            }
            return b.toString();
        }
    }
}
