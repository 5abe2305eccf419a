package io.udit.data;

import java.util.List;
import java.util.SplittableRandom;

/**
 * A labelled collection of equally shaped samples (images in [-1, 1] or latents), read by index. Implementations
 * must be safe to read from several loader threads at once.
 */
public interface Dataset {
    /** Number of samples. */
    int size();

    /** Number of classes (1 for an unconditional dataset). */
    int numClasses();

    /** Channels of a sample (3 for RGB, 1 for grey, 4 for SD-VAE latents). */
    int channels();

    /** Side length H = W of a sample. */
    int resolution();

    /** Human-readable class names, numClasses() of them. */
    List<String> classNames();

    /**
     * Writes sample {@code index} into {@code dst} (channels * resolution^2 floats, CHW order; images scaled to
     * [-1, 1]) and returns its label. {@code rng} drives random augmentation (e.g. horizontal flip), so the same
     * rng state gives the same sample.
     */
    int read(int index, float[] dst, SplittableRandom rng);

    /** One line saying what this is (for logs and reports). */
    String describe();

    default int sampleSize() {
        return channels() * resolution() * resolution();
    }

    /** Whether samples are images in [-1, 1] (true) or latents (false). */
    default boolean isImage() {
        return true;
    }
}
