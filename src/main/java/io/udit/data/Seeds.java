package io.udit.data;

/**
 * The one home of seed mixing: every random stream of the project (data order and augmentation, the trainer's
 * per-step draws, the sampler's per-image noise) takes its seed from here, so that (seed, a, b) tuples give
 * independent streams. The three functions differ because each one's output is part of a reproducibility
 * contract (resumed runs, published sample seeds); they must never change.
 */
public final class Seeds {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private Seeds() {}

    /** The SplitMix64 finaliser. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** Data streams: a well-mixed seed from a base seed, a stream tag and a value (index, epoch, position, ...). */
    static long mix(long seed, long tag, long value) {
        long h = mix(seed + GOLDEN);
        h = mix(h ^ (tag * 0xD1B54A32D192ED03L + 0x632BE59BD9B4E019L));
        return mix(h ^ (value * 0xC2B2AE3D27D4EB4FL + 0x165667B19E3779F9L));
    }

    /**
     * A per-item seed for streams outside the data loader (the VAE encoder's posterior noise and random flips):
     * {@link #mix(long, long, long)}, non-negative.
     */
    public static long item(long seed, long tag, long index) {
        return mix(seed, tag, index) & Long.MAX_VALUE;
    }

    /** The trainer's draws (timesteps, noise, label drop) at optimizer step {@code step}, micro-batch {@code micro}. */
    public static long trainingStep(long seed, long step, long micro) {
        return fold(seed * GOLDEN + step * 0xBF58476D1CE4E5B9L + micro * 0x94D049BB133111EBL, 31, 0xD6E8FEB86659FD93L);
    }

    /** The noise seed of image {@code index} (global, 0-based) of a sampling run with base seed {@code seed}. */
    public static long sampleIndex(long seed, long index) {
        return fold(seed * GOLDEN + (index + 1) * 0xC2B2AE3D27D4EB4FL, 29, 0xBF58476D1CE4E5B9L);
    }

    /** xor-shift, multiply, xor-shift; non-negative (torch generators take the seed as unsigned, logs print it). */
    private static long fold(long h, int shift, long multiplier) {
        h ^= h >>> shift;
        h *= multiplier;
        h ^= h >>> 32;
        return h & Long.MAX_VALUE;
    }
}
