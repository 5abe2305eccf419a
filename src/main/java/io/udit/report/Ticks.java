package io.udit.report;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;

/**
 * Round-number axis ticks. Linear axes step by 1, 2 or 5 x 10^k; log axes tick at decades, with 2 and 5 between
 * them while the range spans at most three decades. Ticks are "loose": the first is at or below the data minimum,
 * the last at or above the maximum, so an axis drawn from the first tick to the last holds all the data and ends on
 * labelled values. Every tick is the double nearest to its decimal value (0.2, not 0.20000000000000004).
 */
public final class Ticks {
    private static final double[] POW10 = new double[23];
    private static final int[] STEPS = {1, 2, 5};
    private static final double EPS = 1e-9;

    static {
        POW10[0] = 1;
        for (int i = 1; i < POW10.length; i++) POW10[i] = POW10[i - 1] * 10; // exact up to 1e22
    }

    private Ticks() {}

    /** Ticks covering [min, max] with the smallest 1-2-5 step that needs at most {@code target} + 1 of them. */
    public static double[] linear(double min, double max, int target) {
        if (!Double.isFinite(min) || !Double.isFinite(max)) throw new IllegalArgumentException("axis range " + min + ".." + max);
        if (!(max > min)) {
            double half = min == 0 ? 1 : Math.abs(min) * 0.1;
            min -= half;
            max += half;
        }
        double raw = (max - min) / Math.max(1, target);
        int e = (int) Math.floor(Math.log10(raw)) - 1;
        for (; ; e++) {
            for (int m : STEPS) {
                double step = decimal(m, e);
                long first = (long) Math.floor(min / step + EPS), last = (long) Math.ceil(max / step - EPS);
                if (last - first + 1 <= target + 1) {
                    double[] out = new double[(int) (last - first + 1)];
                    for (int i = 0; i < out.length; i++) out[i] = decimal((first + i) * m, e);
                    return out;
                }
            }
        }
    }

    /**
     * Ticks for a log axis over [min, max] (min &gt; 0): 1, 2, 5 x 10^k for up to three decades, decades beyond. A
     * range too narrow for four such ticks gets round linear ticks instead (still drawn on the log axis).
     */
    public static double[] log(double min, double max) {
        return log(min, max, 10);
    }

    /**
     * As {@link #log(double, double)}; when 1-2-5 ticks would number more than {@code maxTicks}, only their first and
     * last and the decades between them remain.
     */
    public static double[] log(double min, double max, int maxTicks) {
        if (!(min > 0) || !Double.isFinite(max)) throw new IllegalArgumentException("log axis range " + min + ".." + max);
        if (!(max > min)) {
            min /= 2;
            max *= 2;
        }
        double[] oneTwoFive = Math.log10(max / min) > 3 ? null : logTicks(min, max, STEPS);
        double[] out;
        if (oneTwoFive == null) out = logTicks(min, max, new int[] {1});
        else if (oneTwoFive.length <= maxTicks) out = oneTwoFive;
        else out = endsAndDecades(oneTwoFive);
        if (out.length < 4) {
            double[] lin = linear(min, max, 5);
            if (lin[0] > 0) return lin;
        }
        return out;
    }

    private static double[] endsAndDecades(double[] oneTwoFive) {
        double lo = oneTwoFive[0], hi = oneTwoFive[oneTwoFive.length - 1];
        java.util.TreeSet<Double> out = new java.util.TreeSet<>(List.of(lo, hi));
        for (double v : oneTwoFive) {
            double m = v / decimal(1, (int) Math.floor(Math.log10(v) + EPS));
            if (Math.abs(m - 1) < EPS) out.add(v);
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** The ticks m x 10^k (m from {@code mantissas}) from the last one at or below min to the first at or above max. */
    private static double[] logTicks(double min, double max, int[] mantissas) {
        List<Double> out = new ArrayList<>();
        for (int e = (int) Math.floor(Math.log10(min) + EPS); out.isEmpty() || last(out) < max * (1 - EPS); e++) {
            for (int m : mantissas) {
                double v = decimal(m, e);
                if (v <= min * (1 + EPS)) out.clear(); // the first tick is the last one at or below min
                out.add(v);
                if (v >= max * (1 - EPS)) break;
            }
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static double last(List<Double> xs) {
        return xs.get(xs.size() - 1);
    }

    /** A short label: plain decimals from 0.001 up to 99999, otherwise like "2e-5" or "1.5e6". */
    public static String format(double v) {
        if (v == 0) return "0";
        if (!Double.isFinite(v)) return Double.toString(v);
        BigDecimal d = new BigDecimal(Double.toString(v)).round(new MathContext(4)).stripTrailingZeros();
        double a = Math.abs(v);
        if (a >= 1e-3 && a < 1e5) return d.toPlainString();
        int exp = d.precision() - d.scale() - 1;
        return d.movePointLeft(exp).stripTrailingZeros().toPlainString() + "e" + exp;
    }

    /** m x 10^e as the double nearest to that decimal: one correctly rounded multiplication or division. */
    private static double decimal(long m, int e) {
        if (Math.abs(e) >= POW10.length) return m * Math.pow(10, e);
        return e >= 0 ? m * POW10[e] : m / POW10[-e];
    }
}
