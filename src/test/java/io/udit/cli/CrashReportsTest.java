package io.udit.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Internal errors: the console gets one line with the path of a file that holds the whole trace. */
class CrashReportsTest {
    @Test
    void theTraceGoesToAFileWhosePathIsReturned() throws Exception {
        String line = CrashReports.write(new IllegalStateException("boom", new ArithmeticException("inner")));
        assertTrue(line.startsWith(" (trace in ") && line.endsWith(")") && !line.contains("\n"), line);
        Path f = Path.of(line.substring(" (trace in ".length(), line.length() - 1));
        try {
            String trace = Files.readString(f);
            assertTrue(trace.contains("IllegalStateException: boom") && trace.contains("ArithmeticException: inner")
                    && trace.contains("CrashReportsTest"), trace);
        } finally {
            Files.deleteIfExists(f);
        }
    }
}
