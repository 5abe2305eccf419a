package io.udit.transport;

/**
 * SiT's loss weighting (WeightType) for noise and score models: 1, (g2/sigma)^2 ("velocity") or g2/sigma^2
 * ("likelihood"), g2 being the path's drift variance. Velocity models ignore it, as SiT does.
 */
public enum LossWeight {
    NONE, VELOCITY, LIKELIHOOD;

    /** "none" (or SiT's None / null) and the two weight names. */
    public static LossWeight parse(String name) {
        if (name == null) return NONE;
        return EnumNames.parse(LossWeight.class, "loss weight", name, "none, velocity, likelihood");
    }
}
