package io.udit.dist;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Gloo's report of a fully connected rank is chatter; a rank short of peers, and everything else, is not. */
class GlooChatterTest {
    @Test
    void onlyTheFullyConnectedReportIsDropped() {
        assertTrue(GlooChatter.isChatter("[Gloo] Rank 0 is connected to 1 peer ranks. Expected number of connected peer ranks is : 1"));
        assertTrue(GlooChatter.isChatter("[Gloo] Rank 7 is connected to 7 peer ranks. Expected number of connected peer ranks is : 7"));
        assertFalse(GlooChatter.isChatter("[Gloo] Rank 1 is connected to 0 peer ranks. Expected number of connected peer ranks is : 1"));
        assertFalse(GlooChatter.isChatter("[Gloo] Rank 1 is NOT connected to: [0]"));
        assertFalse(GlooChatter.isChatter("rank 1 of 2 joined 127.0.0.1:29500"));
    }
}
