package io.udit.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** Internal errors: the stack trace goes to a file (~/.udit/crash-<time>.txt, else the temp folder), the console gets its path. */
final class CrashReports {
    private CrashReports() {}

    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS").withZone(ZoneOffset.UTC);

    /** Writes the trace and returns " (trace in FILE)", or the trace itself on the next lines when no file can be written. */
    static String write(Throwable ex) {
        StringWriter w = new StringWriter();
        ex.printStackTrace(new PrintWriter(w));
        String name = "crash-" + STAMP.format(Instant.now()) + "-" + ProcessHandle.current().pid() + ".txt";
        for (Path dir : new Path[] {Path.of(System.getProperty("user.home"), ".udit"), Path.of(System.getProperty("java.io.tmpdir"))}) {
            try {
                Files.createDirectories(dir);
                Path f = dir.resolve(name);
                Files.writeString(f, w.toString(), StandardCharsets.UTF_8);
                return " (trace in " + f + ")";
            } catch (IOException | RuntimeException ignored) {
                // try the next folder
            }
        }
        return System.lineSeparator() + w;
    }
}
