package io.udit.report;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Golden tick choices, including the ranges whose old ticks read 1.22, 0.5502, 0.2479, 0.1116 and 49, 97, 144. */
class TicksTest {
    @Test
    void stepAxes() {
        assertArrayEquals(new double[] {0, 50, 100, 150}, Ticks.linear(0, 150, 5));
        assertArrayEquals(new double[] {0, 50, 100, 150, 200, 250}, Ticks.linear(0, 242, 5));
        assertArrayEquals(new double[] {0, 50, 100, 150}, Ticks.linear(1, 149, 5));
        assertArrayEquals(new double[] {0, 200, 400, 600, 800, 1000}, Ticks.linear(0, 1000, 5));
        assertArrayEquals(new double[] {0, 2000, 4000, 6000, 8000, 10000, 12000}, Ticks.linear(0, 12000, 6));
        assertArrayEquals(new double[] {0, 1, 2, 3}, Ticks.linear(0, 3, 5));
    }

    @Test
    void fractionalAndTinyRangesLandOnExactDecimals() {
        assertArrayEquals(new double[] {0, 0.2, 0.4, 0.6, 0.8, 1}, Ticks.linear(0, 1, 5));
        assertArrayEquals(new double[] {0.3, 0.35, 0.4, 0.45}, Ticks.linear(0.3, 0.45, 5));
        assertArrayEquals(new double[] {0, 2e-5, 4e-5, 6e-5, 8e-5, 1e-4}, Ticks.linear(0, 1e-4, 5));
        assertArrayEquals(new double[] {-1, -0.5, 0, 0.5, 1}, Ticks.linear(-0.9, 0.7, 5));
    }

    @Test
    void aConstantGetsARangeAroundIt() {
        assertArrayEquals(new double[] {4.5, 5, 5.5}, Ticks.linear(5, 5, 5));
        assertArrayEquals(new double[] {-1, -0.5, 0, 0.5, 1}, Ticks.linear(0, 0, 5));
        assertArrayEquals(new double[] {9e-5, 9.5e-5, 1e-4, 1.05e-4, 1.1e-4}, Ticks.linear(1e-4, 1e-4, 5));
    }

    @Test
    void logAxesUseOneTwoFive() {
        assertArrayEquals(new double[] {0.1, 0.2, 0.5, 1, 2}, Ticks.log(0.1116, 1.22));
        assertArrayEquals(new double[] {0.1, 0.2, 0.5, 1}, Ticks.log(0.1, 1));
        assertArrayEquals(new double[] {0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10}, Ticks.log(0.03, 8));
        assertArrayEquals(new double[] {0.2, 1, 10, 20}, Ticks.log(0.2, 20, 6));
        assertArrayEquals(new double[] {0.2, 0.5, 1, 2, 5, 10, 20}, Ticks.log(0.2, 20, 8));
        assertArrayEquals(new double[] {0.05, 0.1, 0.2, 0.5}, Ticks.log(0.09, 0.4));
    }

    @Test
    void wideLogAxesUseDecadesOnly() {
        assertArrayEquals(new double[] {1e-4, 1e-3, 0.01, 0.1, 1, 10}, Ticks.log(1e-4, 10));
        assertArrayEquals(new double[] {0.01, 0.1, 1, 10, 100}, Ticks.log(0.03, 50));
    }

    @Test
    void narrowLogRangesFallBackToRoundLinearTicks() {
        assertArrayEquals(new double[] {0.11, 0.115, 0.12, 0.125, 0.13}, Ticks.log(0.11, 0.13));
        assertArrayEquals(new double[] {0.3, 0.35, 0.4, 0.45}, Ticks.log(0.3, 0.45));
        assertArrayEquals(new double[] {1, 2, 5, 10}, Ticks.log(3, 3));
        assertThrows(IllegalArgumentException.class, () -> Ticks.log(0, 1));
        assertThrows(IllegalArgumentException.class, () -> Ticks.linear(0, Double.POSITIVE_INFINITY, 5));
    }

    @Test
    void labels() {
        assertEquals("0", Ticks.format(0));
        assertEquals("0.2", Ticks.format(0.2));
        assertEquals("150", Ticks.format(150));
        assertEquals("12000", Ticks.format(12000));
        assertEquals("0.005", Ticks.format(0.005));
        assertEquals("2e-5", Ticks.format(2e-5));
        assertEquals("1.1e-4", Ticks.format(1.1e-4));
        assertEquals("1e5", Ticks.format(1e5));
        assertEquals("-0.5", Ticks.format(-0.5));
    }
}
