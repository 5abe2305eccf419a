package io.udit.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Shared plumbing of the fuzz tests: a scratch folder (on /dev/shm when there is one) for the files the parsers read,
 * and the rule that decides what counts as a finding: a parser may only fail with one of the expected exception types
 * and a message that says something; any other throwable (NullPointerException, ArrayIndexOutOfBounds,
 * OutOfMemoryError, StackOverflowError, ClassCast, a libtorch RuntimeException...) is rethrown for Jazzer to report.
 */
final class FuzzSupport {
    private FuzzSupport() {}

    /** Per-input time limit (JUnit's @Timeout, which Jazzer also turns into libFuzzer's -timeout when fuzzing). */
    static final int TIMEOUT_SECONDS = 10;

    private static Path dir;

    static synchronized Path dir() {
        if (dir == null) {
            try {
                Path shm = Path.of("/dev/shm");
                dir = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "udit-fuzz-")
                        : Files.createTempDirectory("udit-fuzz-");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Path d = dir;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(d)));
        }
        return dir;
    }

    /** Writes {@code data} to the scratch file {@code name} (overwritten on every input). */
    static Path write(String name, byte[] data) {
        Path f = dir().resolve(name);
        try {
            Files.write(f, data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return f;
    }

    static void deleteTree(Path d) {
        try (Stream<Path> s = Files.walk(d)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }

    interface Call {
        void run() throws Exception;
    }

    /** Runs the call; a throwable of an allowed type with a non-blank message is a clean rejection, anything else a finding. */
    @SafeVarargs
    static void expect(Call call, Class<? extends Throwable>... allowed) {
        try {
            call.run();
        } catch (Throwable t) {
            for (Class<? extends Throwable> a : allowed) {
                if (a.isInstance(t)) {
                    String m = t.getMessage();
                    if (m == null || m.isBlank()) throw new AssertionError("rejected with an empty message: " + t, t);
                    return;
                }
            }
            throw sneaky(t);
        }
    }

    @SuppressWarnings("unchecked")
    static <T extends Throwable> RuntimeException sneaky(Throwable t) throws T {
        throw (T) t;
    }

    /** True when Jazzer fuzzes (JAZZER_FUZZ set) rather than replaying the seed corpus. */
    static boolean fuzzing() {
        String v = System.getenv("JAZZER_FUZZ");
        return v != null && !v.isEmpty();
    }
}
