package io.udit.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Path2D;
import java.util.List;

/** Draws one chart panel into a rectangle: grid, ticks, lines, legend, and the rotated y-axis label at its left. */
final class ChartPanel {
    static final Font TICK_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    static final Font LABEL_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 14);
    static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 16);
    /** Room left of the plot area for the rotated y label and the tick labels. */
    static final int LEFT = 92;
    /** Gap between the frame and the outermost y ticks, so lines at the ends of the range stay off the frame. */
    static final int INSET = 8;
    private static final Color GRID = new Color(228, 228, 228);
    private static final Color INK = new Color(60, 60, 60);

    private ChartPanel() {}

    /**
     * Draws the panel with its plot area at {@code area}; x tick labels go below it when {@code xLabels} is set.
     * A panel without drawable points says so in its middle.
     */
    static void draw(Graphics2D g, Rectangle area, Axis x, Axis y, String yLabel, List<PlotLine> lines, boolean xLabels) {
        g.setColor(Color.WHITE);
        g.fill(area);
        g.setStroke(new BasicStroke(1f));
        g.setFont(TICK_FONT);
        FontMetrics fm = g.getFontMetrics();
        for (double t : x.ticks()) {
            int px = area.x + (int) Math.round(x.fraction(t) * area.width);
            g.setColor(GRID);
            g.drawLine(px, area.y, px, area.y + area.height);
            if (xLabels) {
                String s = Ticks.format(t);
                g.setColor(INK);
                g.drawString(s, px - fm.stringWidth(s) / 2, area.y + area.height + fm.getAscent() + 4);
            }
        }
        for (double t : y.ticks()) {
            int py = (int) Math.round(yPixel(area, y.fraction(t)));
            g.setColor(GRID);
            g.drawLine(area.x, py, area.x + area.width, py);
            String s = Ticks.format(t);
            g.setColor(INK);
            g.drawString(s, area.x - 6 - fm.stringWidth(s), py + fm.getAscent() / 2 - 1);
        }
        drawYLabel(g, area, yLabel + (y.log() ? " (log)" : ""));
        boolean any = false;
        Shape clip = g.getClip();
        g.clip(area);
        for (PlotLine l : lines) any |= drawLine(g, area, x, y, l);
        g.setClip(clip);
        g.setColor(INK);
        g.setStroke(new BasicStroke(1f));
        g.drawRect(area.x, area.y, area.width, area.height);
        if (!any) {
            g.setFont(LABEL_FONT);
            String s = "no data yet";
            g.drawString(s, area.x + (area.width - g.getFontMetrics().stringWidth(s)) / 2, area.y + area.height / 2);
        } else {
            drawLegend(g, area, x, y, lines);
        }
    }

    /** How many line points (and segments' midpoints) fall in {@code r}. */
    private static int covered(Rectangle r, Rectangle area, Axis x, Axis y, List<PlotLine> lines) {
        Rectangle grown = new Rectangle(r.x - 4, r.y - 4, r.width + 8, r.height + 8);
        int n = 0;
        for (PlotLine l : lines) {
            double px0 = Double.NaN, py0 = Double.NaN;
            for (int i = 0; i < l.x().length; i++) {
                double fx = x.fraction(l.x()[i]), fy = y.fraction(l.y()[i]);
                if (Double.isNaN(fx) || Double.isNaN(fy)) { px0 = Double.NaN; continue; }
                double px = area.x + fx * area.width, py = yPixel(area, fy);
                if (grown.contains(px, py)) n++;
                if (!Double.isNaN(px0) && grown.contains((px + px0) / 2, (py + py0) / 2)) n++;
                px0 = px;
                py0 = py;
            }
        }
        return n;
    }

    /** Centres {@code text} horizontally in [x, x + width] at baseline {@code baseline}. */
    static void centred(Graphics2D g, String text, int x, int width, int baseline) {
        g.drawString(text, x + (width - g.getFontMetrics().stringWidth(text)) / 2, baseline);
    }

    /** The pixel row of a y fraction (0 bottom, 1 top) inside the frame less its insets. */
    static double yPixel(Rectangle area, double fraction) {
        return area.y + area.height - INSET - fraction * (area.height - 2 * INSET);
    }

    private static void drawYLabel(Graphics2D g, Rectangle area, String label) {
        g.setFont(LABEL_FONT);
        g.setColor(INK);
        AffineTransform saved = g.getTransform();
        int ascent = g.getFontMetrics().getAscent();
        g.translate(area.x - LEFT + 4 + ascent, area.y + area.height / 2.0);
        g.rotate(-Math.PI / 2);
        g.drawString(label, -g.getFontMetrics().stringWidth(label) / 2, 0);
        g.setTransform(saved);
    }

    private static boolean drawLine(Graphics2D g, Rectangle area, Axis x, Axis y, PlotLine l) {
        Path2D.Double path = new Path2D.Double();
        boolean pen = false, any = false;
        List<double[]> isolated = new java.util.ArrayList<>(); // points with no neighbour to join: drawn as dots
        double[] segmentStart = null;
        int segmentLength = 0;
        for (int i = 0; i <= l.x().length; i++) {
            double fx = i < l.x().length ? x.fraction(l.x()[i]) : Double.NaN, fy = i < l.x().length ? y.fraction(l.y()[i]) : Double.NaN;
            if (Double.isNaN(fx) || Double.isNaN(fy)) {
                if (segmentLength == 1) isolated.add(segmentStart);
                pen = false;
                segmentLength = 0;
                continue;
            }
            double px = area.x + fx * area.width, py = yPixel(area, fy);
            if (pen) path.lineTo(px, py); else path.moveTo(px, py);
            if (segmentLength++ == 0) segmentStart = new double[] {px, py};
            pen = any = true;
        }
        g.setColor(l.color());
        g.setStroke(new BasicStroke(l.width(), BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        g.draw(path);
        double r = Math.max(2.5, l.width() + 1.5);
        for (double[] p : isolated) g.fill(new java.awt.geom.Ellipse2D.Double(p[0] - r, p[1] - r, 2 * r, 2 * r));
        return any;
    }

    /** The legend goes in the corner that covers the fewest points, top right when there is a tie. */
    private static void drawLegend(Graphics2D g, Rectangle area, Axis x, Axis y, List<PlotLine> lines) {
        g.setFont(TICK_FONT);
        FontMetrics fm = g.getFontMetrics();
        int swatch = 22, rowH = fm.getHeight() + 2, textW = 0;
        for (PlotLine l : lines) textW = Math.max(textW, fm.stringWidth(l.name()));
        int w = 8 + swatch + 6 + textW + 8, h = 6 + rowH * lines.size() + 2;
        Rectangle best = null;
        int fewest = Integer.MAX_VALUE;
        for (int corner = 0; corner < 4; corner++) {
            int cx = corner % 2 == 0 ? area.x + area.width - w - 8 : area.x + 8;
            int cy = corner < 2 ? area.y + 8 : area.y + area.height - h - 8;
            Rectangle r = new Rectangle(cx, cy, w, h);
            int covered = covered(r, area, x, y, lines);
            if (covered < fewest) { fewest = covered; best = r; }
        }
        int bx = best.x, by = best.y;
        g.setColor(new Color(255, 255, 255, 230));
        g.fillRect(bx, by, w, h);
        g.setColor(GRID.darker());
        g.setStroke(new BasicStroke(1f));
        g.drawRect(bx, by, w, h);
        for (int i = 0; i < lines.size(); i++) {
            PlotLine l = lines.get(i);
            int cy = by + 4 + rowH * i + rowH / 2;
            g.setColor(l.color());
            g.setStroke(new BasicStroke(Math.max(2f, l.width())));
            g.drawLine(bx + 8, cy, bx + 8 + swatch, cy);
            g.setColor(INK);
            g.drawString(l.name(), bx + 8 + swatch + 6, cy + fm.getAscent() / 2 - 1);
        }
    }
}
