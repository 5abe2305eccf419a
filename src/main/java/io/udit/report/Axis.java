package io.udit.report;

/** One chart axis: its ends, its ticks, and whether it is logarithmic. */
record Axis(double lo, double hi, double[] ticks, boolean log) {
    /** A linear axis ending on its outer ticks, which enclose the data range [min, max]; about {@code target} ticks. */
    static Axis linear(double min, double max, int target) {
        double[] t = Ticks.linear(min, max, target);
        return new Axis(t[0], t[t.length - 1], t, false);
    }

    /**
     * A linear axis ending exactly at the data range [min, max] (a step axis ends at the latest step), with those
     * round ticks that fall inside it.
     */
    static Axis tight(double min, double max, int target) {
        double[] t = Ticks.linear(min, max, target);
        if (!(max > min)) return new Axis(t[0], t[t.length - 1], t, false);
        double eps = (max - min) * 1e-9;
        return new Axis(min, max, java.util.Arrays.stream(t).filter(v -> v >= min - eps && v <= max + eps).toArray(), false);
    }

    /** An axis without ticks, for a panel that has nothing to show yet. */
    static Axis blank() {
        return new Axis(0, 1, new double[0], false);
    }

    /** A log axis ending on its outer ticks, which enclose the positive data range [min, max]. */
    static Axis log(double min, double max, int maxTicks) {
        double[] t = Ticks.log(min, max, maxTicks);
        return new Axis(t[0], t[t.length - 1], t, true);
    }

    /** Where {@code v} lies between the ends, 0 at {@link #lo()} and 1 at {@link #hi()}; NaN if it cannot be drawn. */
    double fraction(double v) {
        if (!Double.isFinite(v) || (log && v <= 0)) return Double.NaN;
        if (log) return Math.log(v / lo()) / Math.log(hi() / lo());
        return (v - lo()) / (hi() - lo());
    }

    /** True when {@code v} can be placed on this kind of axis. */
    boolean accepts(double v) {
        return Double.isFinite(v) && (!log || v > 0);
    }
}
