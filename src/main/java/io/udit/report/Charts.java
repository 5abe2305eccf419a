package io.udit.report;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/** What the chart types share: the canvas, the palette, axes fitted to lines, and raw-plus-smoothed line pairs. */
final class Charts {
    static final Color[] PALETTE = {new Color(31, 119, 180), new Color(214, 39, 40), new Color(44, 160, 44),
            new Color(148, 103, 189)};
    /** Smoothing spans about this fraction of the points; below two points of window, nothing is smoothed. */
    private static final int SMOOTHING_DIVISOR = 25;
    private static final double MIN_X_SPAN = 10;

    private Charts() {}

    /** A white RGB canvas. */
    static BufferedImage canvas(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = graphics(img);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.dispose();
        return img;
    }

    /** A graphics context on {@code img} with antialiasing on. */
    static Graphics2D graphics(BufferedImage img) {
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        return g;
    }

    /**
     * The raw values as a thin light line under their trailing moving average (legend "mean of last N"), or, with
     * too few points to smooth, the raw values alone in full colour.
     */
    static List<PlotLine> rawAndSmoothed(String name, double[] x, double[] y, Color c) {
        int window = Math.min(200, y.length / SMOOTHING_DIVISOR);
        if (window < 2) return List.of(new PlotLine(name, x, y, c, 1.8f));
        return List.of(new PlotLine(name, x, y, PlotLine.faint(c), 1f),
                new PlotLine("mean of last " + window, x, PlotLine.movingAverage(y, window), c, 2.2f));
    }

    /**
     * An x axis from 0 (or the smallest x, if negative) to the largest x of all lines, at least {@link #MIN_X_SPAN}
     * long so that step ticks stay integers, with round ticks inside; a blank axis without any points.
     */
    static Axis xAxis(List<PlotLine> lines, int target) {
        double[] r = range(lines, false, true);
        if (r == null) return Axis.blank();
        double lo = Math.min(0, r[0]);
        return Axis.tight(lo, Math.max(r[1], lo + MIN_X_SPAN), target);
    }

    /**
     * A y axis over the lines' drawable values (positive ones on a log axis); a blank axis without any. A log axis
     * allows up to twice {@code target} ticks before falling back to decades.
     */
    static Axis yAxis(List<PlotLine> lines, boolean log, int target) {
        double[] r = range(lines, log, false);
        if (r == null) return Axis.blank();
        return log ? Axis.log(r[0], r[1], 2 * target) : Axis.linear(r[0], r[1], target);
    }

    /** [min, max] of the x (or y) values of points whose y is drawable, or null if there are none. */
    private static double[] range(List<PlotLine> lines, boolean log, boolean ofX) {
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (PlotLine l : lines) {
            for (int i = 0; i < l.y().length; i++) {
                double y = l.y()[i];
                if (!Double.isFinite(y) || (log && y <= 0) || !Double.isFinite(l.x()[i])) continue;
                double v = ofX ? l.x()[i] : y;
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        return lo <= hi ? new double[] {lo, hi} : null;
    }

    /** All lines of several groups in one list. */
    static List<PlotLine> concat(List<List<PlotLine>> groups) {
        List<PlotLine> out = new ArrayList<>();
        groups.forEach(out::addAll);
        return out;
    }
}
