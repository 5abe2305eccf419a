package io.udit.transport;

/**
 * ODE solvers by torchdiffeq's names. The fixed-grid ones take one step per grid interval exactly as torchdiffeq
 * 0.2.5 does; {@link #DOPRI5} adapts its steps and interpolates at the grid points.
 */
public enum OdeMethod {
    /** dy = dt f(t0, y0). */
    EULER,
    /** dy = dt f(t0 + dt/2, y0 + f(t0, y0) dt/2). */
    MIDPOINT,
    /** torchdiffeq's "rk4": the Runge-Kutta 3/8 rule ({@code rk4_alt_step_func}), not the classic 1/6-1/3 rule. */
    RK4,
    /** The explicit trapezoid: dy = dt (f(t0, y0) + f(t0 + dt, y0 + dt f(t0, y0))) / 2. */
    HEUN2,
    /** Adaptive Dormand-Prince 5(4) with torchdiffeq's step-size controller, RMS error norm and interpolation. */
    DOPRI5;

    /** torchdiffeq's name (case-insensitive). */
    public static OdeMethod parse(String name) {
        return EnumNames.parse(OdeMethod.class, "ODE method", name, "euler, midpoint, rk4, heun2, dopri5");
    }

    /** Model evaluations per fixed-grid step (0 for the adaptive method). */
    public int evaluationsPerStep() {
        return switch (this) {
            case EULER -> 1;
            case MIDPOINT, HEUN2 -> 2;
            case RK4 -> 4;
            case DOPRI5 -> 0;
        };
    }
}
