package io.udit.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the CLI in a separate JVM on the test classpath (one thread), optionally under a shell resource limit. */
public final class ChildCli {
    private ChildCli() {}

    public record Result(int exitCode, String output) {}

    /** The command line of a child JVM running {@code udit args...}. */
    public static List<String> command(String... args) {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"), "io.udit.cli.Main"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Starts {@code udit args...}; stdout and stderr go to {@code log}. */
    public static Process start(Path log, String... args) throws IOException {
        return start(log, command(args));
    }

    static Process start(Path log, List<String> cmd) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().put("OPENBLAS_NUM_THREADS", "1");
        return pb.start();
    }

    /** Runs {@code udit args...} to the end (at most 10 minutes). */
    public static Result run(Path log, String... args) throws Exception {
        return finish(start(log, args), log);
    }

    /** Runs {@code udit args...} with {@code ulimit -f kib}: writes past that size fail with EFBIG (File too large). */
    public static Result runWithFileSizeLimit(Path log, long kib, String... args) throws Exception {
        StringBuilder line = new StringBuilder("ulimit -f " + kib + " && exec");
        for (String a : command(args)) line.append(" '").append(a.replace("'", "'\\''")).append('\'');
        return finish(start(log, List.of("bash", "-c", line.toString())), log);
    }

    private static Result finish(Process p, Path log) throws Exception {
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("child did not finish: " + Files.readString(log));
        }
        return new Result(p.exitValue(), Files.readString(log));
    }
}
