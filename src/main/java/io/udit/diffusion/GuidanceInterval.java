package io.udit.diffusion;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Where classifier-free guidance is applied (Kynkäänniemi et al. 2024, "Applying guidance in a limited interval"):
 * only at sampling times whose normalised time s lies in [lo, hi]; elsewhere the model runs conditionally only
 * (guidance scale 1, one forward of n rows instead of 2n).
 *
 * <p>s is SiT's time convention for every sampler: s = 0 is pure noise, s = 1 is data. How the model's t maps to s:
 * <ul>
 *   <li>{@link #flow}: flow-matching samplers (io.udit.transport) pass SiT's time itself, so s = t.</li>
 *   <li>{@link #ddpm}: DDPM-family samplers pass original int64 timesteps i in [0, T - 1] (T - 1 the noisiest);
 *   s = 1 - (i + 1) / T, i.e. DPM-Solver's continuous time (i + 1) / T of the discrete step, mirrored to SiT's
 *   direction. With T = 1000: i = 999 -> s = 0, i = 499 -> s = 0.5, i = 0 -> s = 0.999.</li>
 * </ul>
 * Both intervals are closed; rows of one batch are decided separately.
 */
public record GuidanceInterval(double lo, double hi, int ddpmTimesteps) {
    /** Guidance everywhere. */
    public static final GuidanceInterval ALWAYS = new GuidanceInterval(0, 1, 0);

    public GuidanceInterval {
        if (!(lo <= hi)) throw new IllegalArgumentException("guidance interval needs lo <= hi: [" + lo + ", " + hi + "]");
        if (ddpmTimesteps < 0) throw new IllegalArgumentException("negative timestep count " + ddpmTimesteps);
    }

    /** An interval over SiT time t (flow samplers). */
    public static GuidanceInterval flow(double lo, double hi) {
        return new GuidanceInterval(lo, hi, 0);
    }

    /** An interval over s = 1 - (i + 1) / numTimesteps for DDPM timesteps i (numTimesteps = 1000 for DiT's process). */
    public static GuidanceInterval ddpm(double lo, double hi, int numTimesteps) {
        if (numTimesteps < 1) throw new IllegalArgumentException("numTimesteps must be >= 1");
        return new GuidanceInterval(lo, hi, numTimesteps);
    }

    /** True if it covers every time (no row is ever left unguided). */
    public boolean always() {
        return lo <= 0 && hi >= 1;
    }

    /** The normalised times s of the model's t (n values, float64). */
    public Tensor normalisedTime(Tensor t) {
        Tensor d = t.to(t.device(), ScalarType.Double);
        if (ddpmTimesteps == 0) return d;
        return d.add(new Scalar(1.0)).div(new Scalar((double) ddpmTimesteps)).neg().add(new Scalar(1.0));
    }

    /** A bool mask (n) of the rows whose time is inside [lo, hi]. */
    public Tensor contains(Tensor t) {
        Tensor s = normalisedTime(t);
        return s.ge(new Scalar(lo)).logical_and(s.le(new Scalar(hi)));
    }
}
