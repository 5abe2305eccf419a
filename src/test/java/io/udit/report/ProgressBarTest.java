package io.udit.report;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressBarTest {
    private static final Pattern ETA = Pattern.compile("ETA (?:(\\d+):)?(\\d+):(\\d+)");

    static long etaSeconds(String line) {
        Matcher m = ETA.matcher(line);
        assertTrue(m.find(), line);
        long h = m.group(1) == null ? 0 : Long.parseLong(m.group(1));
        return h * 3600 + Long.parseLong(m.group(2)) * 60 + Long.parseLong(m.group(3));
    }

    @Test
    void aTimeBudgetBoundsTheEtaAndFillsTheBar() throws Exception {
        PrintStream sink = new PrintStream(new ByteArrayOutputStream());
        ProgressBar plain = new ProgressBar("train", 1_000_000, 0, sink, false, 1e9);
        ProgressBar budgeted = new ProgressBar("train", 1_000_000, 0, sink, false, 1e9)
                .withDeadline(System.nanoTime() + 4_000_000_000L);
        Thread.sleep(200);
        plain.update(1);
        budgeted.update(1);
        // one step in 0.2 s: a million steps take days; the budget ends in at most 4 s
        assertTrue(etaSeconds(plain.line()) > 3600, plain.line());
        assertTrue(etaSeconds(budgeted.line()) <= 4, budgeted.line());
        Thread.sleep(2200);
        String half = budgeted.line();
        assertTrue(half.contains("[#"), "over half the budget spent shows as fill: " + half);
        assertTrue(plain.line().contains("[...."), plain.line());
    }
}
