package io.udit.experiment;

import io.udit.report.ImageGrid;
import io.udit.report.Ticks;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.Polygon;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.List;

/**
 * The experiment report's charts: a metric against training compute with one line per arm and the seed spread
 * (mean +- one standard deviation) as a shaded band, and the final metric per arm as bars with error bars.
 */
public final class ExperimentPlots {
    private ExperimentPlots() {}

    /** One arm's curve: x, mean y and its standard deviation at each point. */
    public record Band(String name, double[] x, double[] mean, double[] std) {}

    /** One bar: a label, the mean and the standard deviation. */
    public record Bar(String label, double mean, double std) {}

    static final Color[] COLORS = {new Color(31, 119, 180), new Color(214, 39, 40), new Color(44, 160, 44),
            new Color(148, 103, 189), new Color(255, 127, 14), new Color(140, 86, 75), new Color(227, 119, 194), new Color(23, 190, 207)};

    private static final int W = 900, H = 530, LEFT = 80, RIGHT = 200, TOP = 52, BOTTOM = 60;

    /** Lines with their spread as bands, over an x axis that starts at 0. */
    public static byte[] bands(String title, String xLabel, String yLabel, List<Band> bands) throws IOException {
        return bands(title, xLabel, yLabel, bands, true);
    }

    /** Lines with their spread as bands; the x axis starts at 0 or spans only the data. */
    public static byte[] bands(String title, String xLabel, String yLabel, List<Band> bands, boolean xFromZero) throws IOException {
        double xmin = Double.POSITIVE_INFINITY, xmax = Double.NEGATIVE_INFINITY, ymin = Double.POSITIVE_INFINITY, ymax = Double.NEGATIVE_INFINITY;
        for (Band b : bands) {
            for (int i = 0; i < b.x().length; i++) {
                if (!Double.isFinite(b.mean()[i]) || !Double.isFinite(b.x()[i])) continue;
                xmin = Math.min(xmin, b.x()[i]);
                xmax = Math.max(xmax, b.x()[i]);
                ymin = Math.min(ymin, b.mean()[i] - b.std()[i]);
                ymax = Math.max(ymax, b.mean()[i] + b.std()[i]);
            }
        }
        if (!Double.isFinite(xmin)) { xmin = 0; xmax = 1; ymin = 0; ymax = 1; } // nothing measured yet
        if (xFromZero) xmin = Math.min(xmin, 0);
        boolean nonNegative = bands.stream().allMatch(b -> java.util.Arrays.stream(b.mean()).allMatch(v -> !Double.isFinite(v) || v >= 0));
        if (nonNegative) ymin = Math.max(0, ymin);
        Canvas c = new Canvas(title, xLabel, yLabel, xmin, xmax, ymin, ymax);
        for (int k = 0; k < bands.size(); k++) {
            c.clipToPlot(true);
            Band b = bands.get(k);
            Color col = COLORS[k % COLORS.length];
            Polygon band = new Polygon();
            for (int i = 0; i < b.x().length; i++) if (shown(b, i)) band.addPoint(c.px(b.x()[i]), c.py(b.mean()[i] + b.std()[i]));
            for (int i = b.x().length - 1; i >= 0; i--) if (shown(b, i)) band.addPoint(c.px(b.x()[i]), c.py(b.mean()[i] - b.std()[i]));
            c.g.setColor(new Color(col.getRed(), col.getGreen(), col.getBlue(), 50));
            c.g.fillPolygon(band);
            c.g.setColor(col);
            c.g.setStroke(new BasicStroke(2.2f));
            int px = -1, py = -1;
            for (int i = 0; i < b.x().length; i++) {
                if (!shown(b, i)) continue;
                int x = c.px(b.x()[i]), y = c.py(b.mean()[i]);
                if (px >= 0) c.g.drawLine(px, py, x, y);
                c.g.fillOval(x - 3, y - 3, 7, 7);
                px = x;
                py = y;
            }
            c.clipToPlot(false);
            c.legend(k, b.name(), col);
        }
        return c.png();
    }

    /** A point is drawn when both its x (e.g. an uncalibrated arm's wall time) and its mean are known. */
    private static boolean shown(Band b, int i) {
        return Double.isFinite(b.x()[i]) && Double.isFinite(b.mean()[i]);
    }

    public static byte[] bars(String title, String yLabel, List<Bar> bars) throws IOException {
        double ymax = 0, ymin = 0;
        for (Bar b : bars) {
            if (!Double.isFinite(b.mean())) continue;
            ymax = Math.max(ymax, b.mean() + b.std());
            ymin = Math.min(ymin, b.mean() - b.std());
        }
        Canvas c = new Canvas(title, "", yLabel, 0, Math.max(1, bars.size()), ymin, ymax);
        int slot = (W - LEFT - RIGHT) / Math.max(1, bars.size());
        for (int k = 0; k < bars.size(); k++) {
            Bar b = bars.get(k);
            Color col = COLORS[k % COLORS.length];
            int x0 = LEFT + k * slot + slot / 6, bw = slot * 2 / 3;
            if (Double.isFinite(b.mean())) {
                int y = c.py(b.mean()), y0 = c.py(0);
                c.g.setColor(col);
                c.g.fillRect(x0, Math.min(y, y0), bw, Math.abs(y0 - y));
                c.g.setColor(Color.BLACK);
                c.g.setStroke(new BasicStroke(1.6f));
                int xm = x0 + bw / 2, hi = c.py(b.mean() + b.std()), lo = c.py(b.mean() - b.std());
                c.g.drawLine(xm, hi, xm, lo);
                c.g.drawLine(xm - 8, hi, xm + 8, hi);
                c.g.drawLine(xm - 8, lo, xm + 8, lo);
                c.g.drawString(fmt(b.mean()), x0, Math.min(y, y0) - 4 - (hi < y ? y - hi : 0));
            }
            c.g.setColor(Color.DARK_GRAY);
            if (!Double.isFinite(b.mean())) c.g.drawString("not measured yet", x0, c.py(0) - 6);
            c.g.drawString(b.label(), x0, H - BOTTOM + 18);
        }
        return c.png();
    }

    /** A short axis or bar label: 3 significant digits, no exponent below 1e6. */
    static String fmt(double v) {
        if (!Double.isFinite(v)) return "n/a";
        double a = Math.abs(v);
        if (a >= 1e6 || (a < 1e-3 && a > 0)) return String.format("%.2e", v);
        if (a >= 100) return String.format("%.0f", v);
        if (a >= 1) return String.format("%.2f", v);
        return String.format("%.3f", v);
    }

    /** Axes, grid, title and legend area shared by both charts. */
    private static final class Canvas {
        final BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        final Graphics2D g = img.createGraphics();
        final double xmin, xmax, ymin, ymax;
        final int pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;

        /** Axes over round 1-2-5 ticks that cover the data ({@link Ticks}); the ticks also bound the plot area. */
        Canvas(String title, String xLabel, String yLabel, double xmin, double xmax, double ymin, double ymax) {
            if (!(xmax > xmin)) xmax = xmin + 1;
            if (!(ymax > ymin)) { ymax = (Double.isFinite(ymin) ? ymin : 0) + 1; ymin = ymax - 2; }
            double[] yt = Ticks.linear(ymin, ymax, 6);
            double[] xt = xLabel.isEmpty() ? new double[] {xmin, xmax} : Ticks.linear(xmin, xmax, 6);
            this.xmin = xt[0];
            this.xmax = xt[xt.length - 1];
            this.ymin = yt[0];
            this.ymax = yt[yt.length - 1];
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, W, H);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
            g.drawString(title, LEFT, 24);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            java.awt.FontMetrics fm = g.getFontMetrics();
            for (double v : yt) {
                int yy = py(v);
                g.setColor(new Color(230, 230, 230));
                g.drawLine(LEFT, yy, LEFT + pw, yy);
                g.setColor(Color.DARK_GRAY);
                String label = Ticks.format(v);
                g.drawString(label, LEFT - 6 - fm.stringWidth(label), yy + 4);
            }
            if (!xLabel.isEmpty()) {
                for (double v : xt) {
                    String label = Ticks.format(v);
                    g.drawString(label, px(v) - fm.stringWidth(label) / 2, TOP + ph + 18);
                }
                g.drawString(xLabel, LEFT + (pw - fm.stringWidth(xLabel)) / 2, H - 15);
            }
            g.drawRect(LEFT, TOP, pw, ph);
            g.drawString(yLabel, LEFT, TOP - 4);
        }

        /** Drawing of data stays inside the plot area (a band may reach below an axis that starts at 0). */
        void clipToPlot(boolean on) {
            g.setClip(on ? new java.awt.Rectangle(LEFT, TOP, pw + 1, ph + 1) : null);
        }

        int px(double x) {
            return LEFT + (int) Math.round((x - xmin) / (xmax - xmin) * pw);
        }

        int py(double y) {
            return TOP + (int) Math.round((ymax - y) / (ymax - ymin) * ph);
        }

        void legend(int k, String name, Color col) {
            int y = TOP + 14 + 20 * k;
            g.setColor(col);
            g.fillRect(LEFT + pw + 12, y - 9, 14, 10);
            g.setColor(Color.BLACK);
            g.drawString(name, LEFT + pw + 32, y);
        }

        byte[] png() throws IOException {
            g.dispose();
            return ImageGrid.png(img);
        }
    }
}
