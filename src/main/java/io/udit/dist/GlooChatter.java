package io.udit.dist;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Gloo's connection report. Gloo's TCP context writes "[Gloo] Rank R is connected to N peer ranks. Expected number of
 * connected peer ranks is : M" to std::cout whenever a group is made, unconditionally (no log level or environment
 * variable turns it off, and Java cannot redirect a native stream). Launchers drop the line when every peer is
 * connected; a rank short of peers is still reported.
 */
public final class GlooChatter {
    private static final Pattern CONNECTED =
            Pattern.compile("\\[Gloo] Rank \\d+ is connected to (\\d+) peer ranks\\. Expected number of connected peer ranks is : (\\d+)\\s*");

    private GlooChatter() {}

    /** Whether a line of a rank's output is Gloo's report of a fully connected rank. */
    public static boolean isChatter(String line) {
        Matcher m = CONNECTED.matcher(line);
        return m.matches() && m.group(1).equals(m.group(2));
    }
}
