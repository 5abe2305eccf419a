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

/** {@code udit experiment run FILE --out DIR} and {@code udit experiment report DIR}. */
@Command(name = "experiment", mixinStandardHelpOptions = true,
        description = "Compare models (arms) under one recipe over several seeds: train, evaluate at fractions of training, report.",
        subcommands = {ExperimentCommand.Run.class, ExperimentCommand.Report.class})
public final class ExperimentCommand implements Runnable {
    @Override
    public void run() {
        throw new UserError("give a subcommand: run FILE --out DIR, or report DIR");
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = {"Train and evaluate every arm x seed of an experiment file into DIR/runs/ARM/seed-S (ordinary run folders),",
                    "then write the report. Running it again resumes unfinished runs and skips finished ones."})
    static final class Run implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "FILE", description = "Experiment file (JSON), e.g. experiments/paper-claim.json.")
        Path file;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Experiment folder (created; reused when it holds this experiment).")
        Path out;

        @Option(names = "--only", paramLabel = "ARM[:SEED]", split = ",", description = "Run only these arms (or arm:seed pairs); repeatable.")
        List<String> only = new ArrayList<>();

        @Option(names = "--budget-scale", defaultValue = "1", paramLabel = "X",
                description = "Multiply every arm's training length (steps or compute budget) by X, e.g. 10 on a bigger machine (default ${DEFAULT-VALUE}).")
        double budgetScale;

        @Option(names = "--inception", paramLabel = "WEIGHTS",
                description = "FID Inception weights (pytorch-fid's pt_inception-2015-12-05 .pth): adds FID, sFID, IS, precision and recall.")
        Path inception;

        @Override
        public Integer call() throws Exception {
            ExperimentRunner.Options options;
            try {
                if (!Files.isRegularFile(file)) throw new UserError(file + ": no such file");
                if (inception != null && !Files.isRegularFile(inception)) throw new UserError("--inception " + inception + ": no such file");
                ExperimentSpec spec = ExperimentSpec.read(file);
                List<ExperimentRunner.Selection> sel = new ArrayList<>();
                for (String s : only) sel.add(ExperimentRunner.Selection.parse(s));
                options = new ExperimentRunner.Options(spec, out, budgetScale, sel, inception);
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage(), e);
            }
            int written;
            try {
                written = new ExperimentRunner(options, System.err::println).run();
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage(), e);
            }
            ExperimentReport.write(out);
            System.out.println("experiment " + options.spec().name() + ": " + written + " new evaluation(s); report: " + out.resolve("report.md"));
            return 0;
        }
    }

    @Command(name = "report", mixinStandardHelpOptions = true,
            description = "Write report.md, results.csv, results.json and the plots of an experiment folder (finished or not).")
    static final class Report implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "DIR", description = "Experiment folder.")
        Path dir;

        @Override
        public Integer call() throws Exception {
            if (!Files.isDirectory(dir)) throw new UserError(dir + ": no such folder");
            ExperimentReport.write(dir);
            System.out.println("report: " + dir.resolve("report.md"));
            return 0;
        }
    }
}
