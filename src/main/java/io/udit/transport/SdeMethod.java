package io.udit.transport;

import java.util.Locale;

/** SiT's SDE integrators: Euler-Maruyama, and the stochastic Heun step (noise first, then a trapezoid step). */
public enum SdeMethod {
    EULER, HEUN;

    public static SdeMethod parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown SDE method '" + name + "' (Euler, Heun)");
        }
    }

    /** Model evaluations per stochastic step. */
    public int evaluationsPerStep() {
        return this == EULER ? 1 : 2;
    }
}
