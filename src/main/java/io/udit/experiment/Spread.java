package io.udit.experiment;

import java.util.List;

/**
 * A figure over seeds: the per-seed values, their mean and sample standard deviation (n - 1; 0 for one seed).
 * Non-finite values are kept in {@code values} but left out of the mean and deviation.
 */
public record Spread(List<Double> values, double mean, double std, int n) {
    public static Spread of(List<Double> values) {
        double sum = 0;
        int n = 0;
        for (double v : values) if (Double.isFinite(v)) { sum += v; n++; }
        double mean = n == 0 ? Double.NaN : sum / n, ss = 0;
        for (double v : values) if (Double.isFinite(v)) ss += (v - mean) * (v - mean);
        return new Spread(List.copyOf(values), mean, n > 1 ? Math.sqrt(ss / (n - 1)) : 0, n);
    }

    /**
     * Whether the difference of two means exceeds the seed spread: the mean +- one standard deviation intervals do not
     * overlap, {@code |a - b| > sd_a + sd_b} (needs at least two seeds on each side).
     */
    public boolean differsBeyondSpread(Spread other) {
        return n >= 2 && other.n >= 2 && Math.abs(mean - other.mean) > std + other.std;
    }
}
