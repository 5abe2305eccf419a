package io.udit.cli;

import io.udit.model.Backbone;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.UncheckedIOException;

/** The udit command line. Exit codes: 0 ok, 1 internal error, 2 bad input (flags, files, configs), 3 a peer rank was lost, 4 training
 * stopped on a NaN/Inf loss or gradient. */
@Command(name = "udit", mixinStandardHelpOptions = true, version = "udit 0.1.0",
        description = "U-DiT diffusion transformers on libtorch: train, sample, evaluate.",
        footer = {"", "Examples:", "  udit demo                         (train a small model on built-in data and report on it)",
                "  udit help train                   (the options of one command)",
                "  udit --device cuda train --data fashion-mnist"},
        subcommands = {CommandLine.HelpCommand.class, DemoCommand.class, InfoCommand.class, ForwardCommand.class, ConvertCommand.class, TrainCommand.class, SampleCommand.class, BenchCommand.class, EvalCommand.class, LaunchCommand.class,
                EncodeCommand.class, DecodeCommand.class, VaeInitCommand.class, ExperimentCommand.class})
public final class Main implements Runnable {
    static final String STANDALONE = "udit.standalone";

    @picocli.CommandLine.Option(names = "--device", paramLabel = "cpu|cuda[:N]", scope = picocli.CommandLine.ScopeType.INHERIT,
            description = "Where networks run (default: UDIT_DEVICE, else cpu; cuda needs the GPU build, mvn -P gpu).")
    void setDevice(String device) {
        System.setProperty("udit.device", device);
    }

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** Without a command: the top-level help page. */
    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.setProperty(STANDALONE, "true"); // this JVM is ours: commands may install signal handlers
        System.exit(run(args));
    }

    /** Runs the CLI and returns the exit code (for tests and embedding). */
    public static int run(String... args) {
        CommandLine cl = commandLine();
        cl.registerConverter(Double.class, Main::finiteDouble).registerConverter(double.class, Main::finiteDouble);
        cl.registerConverter(Float.class, v -> (float) finiteDouble(v)).registerConverter(float.class, v -> (float) finiteDouble(v));
        cl.setParameterExceptionHandler((ex, args1) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println(name(c) + ": " + oneLine(ex.getMessage()) + " (see " + name(c) + " --help)");
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (isUserError(ex)) {
                commandLine.getErr().println(name(commandLine) + ": " + message(ex));
                return 2;
            }
            if (ex instanceof io.udit.train.Trainer.NonFiniteException) {
                commandLine.getErr().println(name(commandLine) + ": " + message(ex));
                return 4;
            }
            if (ex instanceof io.udit.dist.ProcessGroup.PeerLostException) {
                commandLine.getErr().println(name(commandLine) + ": " + message(ex));
                return 3;
            }
            if (isOutOfMemory(ex)) {
                commandLine.getErr().println(name(commandLine) + ": " + outOfMemory(ex));
                return 2;
            }
            commandLine.getErr().println(name(commandLine) + ": internal error: " + oneLine(ex) + CrashReports.write(ex));
            return 1;
        });
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) { // picocli passes Errors through
            System.err.println("udit: " + outOfMemory(e));
            return 2;
        }
    }

    /** The command as the user typed it, e.g. "udit experiment run": error lines name it. */
    private static String name(CommandLine c) {
        return c.getCommandSpec().qualifiedName();
    }

    /** Help pages are rendered this wide: descriptions get a column wide enough that no word of theirs is split. */
    static final int USAGE_WIDTH = 100;

    /** The command tree with its help layout (usage width, the help command's examples). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.getSubcommands().get("help").getCommandSpec().usageMessage().footer("", "Examples:", "  udit help", "  udit help sample");
        WholeWordHelp.install(cl);
        cl.setUsageHelpWidth(USAGE_WIDTH);
        cl.setUsageHelpLongOptionsMaxWidth(30);
        return cl;
    }

    /** Java heap or JavaCPP's native limit exhausted, or libtorch's allocator refusing an allocation. */
    static boolean isOutOfMemory(Throwable ex) {
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t instanceof OutOfMemoryError || String.valueOf(t.getMessage()).contains("can't allocate memory")) return true;
        }
        return false;
    }

    /** One line naming the limit that was hit and the remedies. */
    static String outOfMemory(Throwable ex) {
        String nativeCap = System.getProperty("org.bytedeco.javacpp.maxPhysicalBytes");
        return "out of memory (" + oneLine(ex.getMessage()) + "); limits: Java heap " + (Runtime.getRuntime().maxMemory() >> 20)
                + " MB, process " + (nativeCap != null ? nativeCap : "JavaCPP's default") + ". Use a smaller --batch or --micro-batch,"
                + " or raise the limit with UDIT_MAX_MEMORY (e.g. 16g)";
    }

    /** Every floating-point option: a finite number (NaN and infinities mean a mistake for every option we have). */
    static double finiteDouble(String v) {
        double d;
        try {
            d = Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("'" + v + "' is not a number");
        }
        if (!Double.isFinite(d)) throw new CommandLine.TypeConversionException("'" + v + "' is not a finite number");
        return d;
    }

    /** A user mistake: exit 2. {@link io.udit.engine.UserMistake} by type; IO failures on files the user named. */
    static boolean isUserError(Throwable ex) {
        return ex instanceof io.udit.engine.UserMistake || ex instanceof io.udit.dist.ProcessGroup.ConfigMismatchException
                || ex instanceof IOException || ex instanceof UncheckedIOException || ex instanceof Backbone.StateDictMismatchException;
    }

    static String message(Throwable ex) {
        Throwable cause = ex instanceof UncheckedIOException && ex.getCause() != null ? ex.getCause() : ex;
        if (cause instanceof java.nio.file.FileSystemException f && f.getReason() == null && f.getFile() != null) return fileProblem(f);
        String m = ex.getMessage();
        return m == null ? ex.getClass().getSimpleName() : oneLine(m);
    }

    /** A file system error without a reason (its message is only the path) as the path and what went wrong there. */
    private static String fileProblem(java.nio.file.FileSystemException f) {
        String what = f instanceof java.nio.file.NoSuchFileException ? "no such file or folder"
                : f instanceof java.nio.file.FileAlreadyExistsException ? "already exists, as " + io.udit.engine.FileKinds.describe(java.nio.file.Path.of(f.getFile()))
                : f instanceof java.nio.file.AccessDeniedException ? "permission denied"
                : f instanceof java.nio.file.NotDirectoryException ? "not a folder"
                : f instanceof java.nio.file.DirectoryNotEmptyException ? "a folder that is not empty"
                : f.getClass().getSimpleName();
        return oneLine(f.getFile() + (f.getOtherFile() != null ? " -> " + f.getOtherFile() : "") + ": " + what);
    }

    private static String oneLine(Object o) {
        String s = String.valueOf(o).replace('\n', ' ').replace('\r', ' ');
        return s.length() > 2000 ? s.substring(0, 2000) + "..." : s;
    }
}
