package io.udit.data;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The mixed seeds are part of reproducibility (resumed runs draw the same timesteps and noise, a sample seed gives
 * the same images): these values were computed with the three formulas as they stood before they moved here
 * ({@code data/Seeds.mix}, the trainer's former {@code Seeds.mix} and the sampler's former {@code seedFor}) and must never
 * change.
 */
class SeedsTest {
    // seed, a, b, trainingStep(seed, a, b), sampleIndex(seed, a), mix(seed, a, b)
    private static final long[][] GOLDEN = {
            {0L, 0L, 0L, 0L, 5338365078049820983L, -1325221293695259922L},
            {42L, 7L, 1L, 1883520676154024054L, 7324864685799874700L, -2471614940837047663L},
            {-5L, 123456L, 3L, 8561417617037093203L, 3344808138304475077L, 7493454222223529682L},
            {9223372036854775807L, 99L, 2L, 1597443040066698424L, 4645623478639408879L, -5657017930570591500L},
    };

    @Test
    void everyMixerGivesTheValuesItGaveBeforeItMovedHere() {
        for (long[] g : GOLDEN) {
            assertEquals(g[3], Seeds.trainingStep(g[0], g[1], g[2]), "trainingStep");
            assertEquals(g[4], Seeds.sampleIndex(g[0], g[1]), "sampleIndex");
            assertEquals(g[5], Seeds.mix(g[0], g[1], g[2]), "data stream mix");
        }
    }
}
