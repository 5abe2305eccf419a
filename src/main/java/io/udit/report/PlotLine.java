package io.udit.report;

import java.awt.Color;

/** One line of a chart panel with its legend name, colour and stroke width; NaN values break the line. */
record PlotLine(String name, double[] x, double[] y, Color color, float width) {
    /** The moving average of {@code y} over {@code window} points, trailing, skipping NaN/Inf values. */
    static double[] movingAverage(double[] y, int window) {
        double[] out = new double[y.length];
        double sum = 0;
        int count = 0;
        for (int i = 0; i < y.length; i++) {
            if (Double.isFinite(y[i])) { sum += y[i]; count++; }
            if (i >= window && Double.isFinite(y[i - window])) { sum -= y[i - window]; count--; }
            out[i] = count > 0 ? sum / count : Double.NaN;
        }
        return out;
    }

    /** A light, thin copy of a colour for raw values drawn under their smoothed line. */
    static Color faint(Color c) {
        return new Color((c.getRed() + 2 * 255) / 3, (c.getGreen() + 2 * 255) / 3, (c.getBlue() + 2 * 255) / 3);
    }
}
