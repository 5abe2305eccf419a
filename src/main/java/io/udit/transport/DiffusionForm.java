package io.udit.transport;

import java.util.Locale;

/**
 * The SDE diffusion coefficient w_t of SiT's {@code compute_diffusion} (times {@code norm}, the "diffusion_norm"):
 * the sampler adds w_t * score to the probability-flow drift and noise of variance 2 w_t dt.
 */
public enum DiffusionForm {
    /** w = norm. */
    CONSTANT("constant"),
    /** w = norm * (the path's g^2/2): the score-based diffusion model's own diffusion. SiT's Sampler default. */
    SBDM("SBDM"),
    /** w = norm * sigma_t. SiT's CLI default. */
    SIGMA("sigma"),
    /** w = norm * (1 - t). */
    LINEAR("linear"),
    /** w = 0.25 (norm cos(pi t) + 1)^2. */
    DECREASING("decreasing"),
    /** w = norm sin(pi t)^2; SiT's key is spelled "inccreasing-decreasing" (its CLI's spelling fails there). */
    INCREASING_DECREASING("increasing-decreasing");

    private final String sitName;

    DiffusionForm(String sitName) {
        this.sitName = sitName;
    }

    /** Parses SiT's names (case-insensitive), also accepting path.py's spelling "inccreasing-decreasing". */
    public static DiffusionForm parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        if (n.equals("inccreasing-decreasing")) return INCREASING_DECREASING;
        for (DiffusionForm f : values()) if (f.sitName.toLowerCase(Locale.ROOT).equals(n)) return f;
        throw new IllegalArgumentException("unknown diffusion form '" + name
                + "' (constant, SBDM, sigma, linear, decreasing, increasing-decreasing)");
    }
}
