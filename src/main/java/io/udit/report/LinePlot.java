package io.udit.report;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** A small PNG line chart (loss curves): raw points in light colour, a moving average on top, log-scale y. */
public final class LinePlot {
    private LinePlot() {}

    public record Series(String name, double[] x, double[] y) {}

    /** Renders the series as PNG bytes. */
    public static byte[] png(String title, String xLabel, String yLabel, List<Series> series, boolean logY) throws IOException {
        int w = 900, h = 520, left = 80, right = 20, top = 40, bottom = 60;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        double xmin = Double.POSITIVE_INFINITY, xmax = Double.NEGATIVE_INFINITY, ymin = Double.POSITIVE_INFINITY, ymax = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.x().length; i++) {
                double y = s.y()[i];
                if (!Double.isFinite(y) || (logY && y <= 0)) continue;
                xmin = Math.min(xmin, s.x()[i]);
                xmax = Math.max(xmax, s.x()[i]);
                double ty = logY ? Math.log10(y) : y;
                ymin = Math.min(ymin, ty);
                ymax = Math.max(ymax, ty);
            }
        }
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString(title, left, 26);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        if (!(xmax >= xmin) || !(ymax >= ymin)) {
            g.drawString("no data yet", w / 2 - 30, h / 2);
            return encode(img);
        }
        if (xmax == xmin) xmax = xmin + 1;
        if (ymax == ymin) { ymax += 0.5; ymin -= 0.5; }
        double pad = (ymax - ymin) * 0.05;
        ymin -= pad;
        ymax += pad;
        int pw = w - left - right, ph = h - top - bottom;
        g.setColor(new Color(235, 235, 235));
        for (int i = 0; i <= 5; i++) {
            int yy = top + ph * i / 5;
            g.drawLine(left, yy, left + pw, yy);
            double v = ymax - (ymax - ymin) * i / 5;
            g.setColor(Color.DARK_GRAY);
            g.drawString(ProgressBar.format(logY ? Math.pow(10, v) : v), 8, yy + 4);
            g.setColor(new Color(235, 235, 235));
        }
        g.setColor(Color.DARK_GRAY);
        for (int i = 0; i <= 5; i++) {
            int xx = left + pw * i / 5;
            double v = xmin + (xmax - xmin) * i / 5;
            g.drawString(String.format("%.0f", v), xx - 10, top + ph + 18);
        }
        g.drawRect(left, top, pw, ph);
        g.drawString(xLabel, left + pw / 2 - 20, h - 15);
        g.drawString(yLabel + (logY ? " (log scale)" : ""), left, top - 6 + 0);
        Color[] colors = {new Color(31, 119, 180), new Color(214, 39, 40), new Color(44, 160, 44), new Color(148, 103, 189)};
        int legendY = top + 16;
        for (int si = 0; si < series.size(); si++) {
            Series s = series.get(si);
            Color c = colors[si % colors.length];
            g.setColor(new Color(c.getRed(), c.getGreen(), c.getBlue(), 60));
            g.setStroke(new BasicStroke(1f));
            drawPolyline(g, s.x(), s.y(), xmin, xmax, ymin, ymax, logY, left, top, pw, ph);
            double[] smooth = movingAverage(s.y(), Math.max(1, s.y().length / 50));
            g.setColor(c);
            g.setStroke(new BasicStroke(2f));
            drawPolyline(g, s.x(), smooth, xmin, xmax, ymin, ymax, logY, left, top, pw, ph);
            g.drawString(s.name(), left + pw - 160, legendY);
            legendY += 16;
        }
        g.dispose();
        return encode(img);
    }

    private static void drawPolyline(Graphics2D g, double[] xs, double[] ys, double xmin, double xmax, double ymin,
                                     double ymax, boolean logY, int left, int top, int pw, int ph) {
        List<int[]> pts = new ArrayList<>();
        for (int i = 0; i < xs.length; i++) {
            double y = ys[i];
            if (!Double.isFinite(y) || (logY && y <= 0)) continue;
            double ty = logY ? Math.log10(y) : y;
            int px = left + (int) Math.round((xs[i] - xmin) / (xmax - xmin) * pw);
            int py = top + (int) Math.round((ymax - ty) / (ymax - ymin) * ph);
            pts.add(new int[] {px, py});
        }
        for (int i = 1; i < pts.size(); i++) g.drawLine(pts.get(i - 1)[0], pts.get(i - 1)[1], pts.get(i)[0], pts.get(i)[1]);
    }

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

    private static byte[] encode(BufferedImage img) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        ImageIO.write(img, "png", bos);
        return bos.toByteArray();
    }
}
