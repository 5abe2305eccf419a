package io.udit.transport;

/**
 * The final step of SiT's SDE sampler, taken at t1 = 1 - lastStepSize after the stochastic steps:
 * {@link #MEAN} x + sde_drift(x, t1) h; {@link #TWEEDIE} x / alpha + sigma^2 / alpha * score(x, t1) (alpha, sigma of
 * the first sample's t1, as SiT); {@link #EULER} x + ode_drift(x, t1) h; {@link #NONE} x unchanged, with the
 * stochastic steps then running up to 1 - sample_eps. h is the last step size, not the grid step.
 */
public enum LastStep {
    MEAN, TWEEDIE, EULER, NONE;

    /** SiT's names: Mean, Tweedie, Euler, None (case-insensitive; null means None). */
    public static LastStep parse(String name) {
        if (name == null) return NONE;
        return EnumNames.parse(LastStep.class, "last step", name, "Mean, Tweedie, Euler, None");
    }
}
