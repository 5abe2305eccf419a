package io.udit.data;

/** Seed mixing (SplitMix64 finaliser) so that (seed, a, b, ...) tuples give independent random streams. */
final class Seeds {
    private Seeds() {}

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** A well-mixed seed from a base seed, a stream tag and a value (index, epoch, position, ...). */
    static long mix(long seed, long tag, long value) {
        long h = mix(seed + 0x9E3779B97F4A7C15L);
        h = mix(h ^ (tag * 0xD1B54A32D192ED03L + 0x632BE59BD9B4E019L));
        return mix(h ^ (value * 0xC2B2AE3D27D4EB4FL + 0x165667B19E3779F9L));
    }
}
