package io.udit.transport;

/** SiT's SDE integrators: Euler-Maruyama, and the stochastic Heun step (noise first, then a trapezoid step). */
public enum SdeMethod {
    EULER, HEUN;

    public static SdeMethod parse(String name) {
        return EnumNames.parse(SdeMethod.class, "SDE method", name, "Euler, Heun");
    }

    /** Model evaluations per stochastic step. */
    public int evaluationsPerStep() {
        return this == EULER ? 1 : 2;
    }
}
