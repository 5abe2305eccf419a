package io.udit.transport;

/**
 * Sampling time grids in SiT time (t = 0 noise, t = 1 data).
 *
 * <p>{@link #linspace} spaces n points evenly from t0 to t1 as {@code t0 + i (t1 - t0) / (n - 1)} with the end
 * point exact (torch's {@code linspace} agrees to 1 ulp at interior points).
 *
 * <p>{@link #shift} is the timestep shift of SD3 / LightningDiT, {@code s' = shift s / (1 + (shift - 1) s)}, applied
 * to the noise level s = 1 - t of SiT time; in SiT time it reads {@code t' = t / (shift - (shift - 1) t)}. It keeps
 * 0 and 1 fixed; shift > 1 puts more of the grid near the noise end (t = 0), shift = 1 is the identity.
 */
public final class TimeGrid {
    private TimeGrid() {}

    /** n >= 2 evenly spaced times from t0 to t1 (either direction), both ends exact. */
    public static double[] linspace(double t0, double t1, int n) {
        if (n < 2) throw new IllegalArgumentException("a time grid needs at least 2 points: " + n);
        double step = (t1 - t0) / (n - 1);
        double[] g = new double[n];
        for (int i = 0; i < n; i++) g[i] = t0 + i * step;
        g[n - 1] = t1;
        return g;
    }

    /** The shifted time t / (shift - (shift - 1) t) (see the class comment); shift must be > 0. */
    public static double shift(double t, double shift) {
        if (!(shift > 0)) throw new IllegalArgumentException("timestep shift must be > 0: " + shift);
        return shift == 1 ? t : t / (shift - (shift - 1) * t);
    }

    /** {@link #shift} applied to every point of a grid (a new array). */
    public static double[] shift(double[] grid, double shift) {
        double[] out = new double[grid.length];
        for (int i = 0; i < grid.length; i++) out[i] = shift(grid[i], shift);
        return out;
    }
}
