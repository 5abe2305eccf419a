package io.udit.cli;

import io.udit.engine.FileKinds;

import java.nio.file.Path;

/**
 * Range checks for CLI values, each naming its option, run at the start of a command before any work. Non-finite
 * numbers never get this far: {@link Main} installs converters that refuse NaN and infinities while parsing.
 */
final class Checks {
    private Checks() {}

    static long inRange(String option, long v, long lo, long hi) {
        if (v < lo || v > hi) throw new UserError(option + " must be in " + lo + ".." + hi + ", got " + v);
        return v;
    }

    static int inRange(String option, int v, int lo, int hi) {
        return (int) inRange(option, (long) v, lo, hi);
    }

    static Integer inRange(String option, Integer v, int lo, int hi) {
        return v == null ? null : inRange(option, v.intValue(), lo, hi);
    }

    static double inRange(String option, double v, double lo, double hi) {
        if (!(v >= lo && v <= hi)) throw new UserError(option + " must be in [" + lo + ", " + hi + "], got " + v);
        return v;
    }

    /** The path names a regular file (symlinks followed); otherwise a one-line error naming the option and what it is. */
    static Path regularFile(String option, Path p) {
        if (p != null) FileKinds.requireRegular(p, option);
        return p;
    }
}
