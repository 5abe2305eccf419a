package io.udit.diffusion;

/** Sampler progress: called after each completed step with its 1-based index and the total step count. */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = (step, total) -> {};

    void onStep(int step, int total);
}
