package io.udit.cli;

import io.udit.io.CheckpointFormatException;
import io.udit.model.Backbone;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.UncheckedIOException;

/** The udit command line. Exit codes: 0 ok, 1 internal error, 2 bad input (flags, files, configs), 3 a peer rank was lost, 4 training
 * stopped on a NaN/Inf loss or gradient. */
@Command(name = "udit", mixinStandardHelpOptions = true, version = "udit 0.1.0",
        description = "U-DiT diffusion transformers on libtorch: train, sample, evaluate.",
        subcommands = {DemoCommand.class, InfoCommand.class, ForwardCommand.class, ConvertCommand.class, TrainCommand.class, SampleCommand.class, BenchCommand.class, EvalCommand.class, LaunchCommand.class,
                EncodeCommand.class, DecodeCommand.class, VaeInitCommand.class, ExperimentCommand.class})
public final class Main implements Runnable {
    static final String STANDALONE = "udit.standalone";

    @picocli.CommandLine.Option(names = "--device", paramLabel = "cpu|cuda[:N]", scope = picocli.CommandLine.ScopeType.INHERIT,
            description = "Where networks run (default: UDIT_DEVICE, else cpu; cuda needs the GPU build, mvn -P gpu).")
    void setDevice(String device) {
        System.setProperty("udit.device", device);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.setProperty(STANDALONE, "true"); // this JVM is ours: commands may install signal handlers
        System.exit(run(args));
    }

    /** Runs the CLI and returns the exit code (for tests and embedding). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (isUserError(ex)) {
                commandLine.getErr().println("udit " + commandLine.getCommandName() + ": " + message(ex));
                return 2;
            }
            if (ex instanceof io.udit.train.Trainer.NonFiniteException) {
                commandLine.getErr().println("udit " + commandLine.getCommandName() + ": " + message(ex));
                return 4;
            }
            if (ex instanceof io.udit.dist.ProcessGroup.PeerLostException) {
                commandLine.getErr().println("udit " + commandLine.getCommandName() + ": " + message(ex));
                return 3;
            }
            commandLine.getErr().println("udit " + commandLine.getCommandName() + ": internal error: " + ex);
            ex.printStackTrace(commandLine.getErr());
            return 1;
        });
        return cl.execute(args);
    }

    static boolean isUserError(Throwable ex) {
        return ex instanceof UserError || ex instanceof io.udit.data.DataException || ex instanceof io.udit.eval.EvalException
                || ex instanceof io.udit.dist.ProcessGroup.ConfigMismatchException || ex instanceof CheckpointFormatException || ex instanceof IOException
                || ex instanceof UncheckedIOException || ex instanceof Backbone.StateDictMismatchException
                || ex instanceof io.udit.vae.VaeException || ex instanceof io.udit.train.RunException;
    }

    private static String message(Throwable ex) {
        String m = ex.getMessage();
        return m == null ? ex.getClass().getSimpleName() : m;
    }
}
