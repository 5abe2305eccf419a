package io.udit.report;

import io.udit.io.Json;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The training chart ({@code loss.png}): loss (raw and smoothed, log scale), learning rate and gradient norm in three
 * panels stacked on one step axis, with the latest values in the header.
 */
public final class TrainingPlot {
    static final int WIDTH = 960, TOP = 48, GAP = 14, BOTTOM = 58, RIGHT = 24;
    static final int[] PANEL_HEIGHTS = {300, 140, 140};
    static final int HEIGHT = TOP + PANEL_HEIGHTS[0] + PANEL_HEIGHTS[1] + PANEL_HEIGHTS[2] + 2 * GAP + BOTTOM;

    private TrainingPlot() {}

    /** One log line's values; NaN where a value is missing (it leaves a gap in its line). */
    public record Point(long step, double loss, double lr, double gradNorm) {}

    /** The chart as PNG bytes. */
    public static byte[] png(List<Point> points) throws IOException {
        int n = points.size();
        double[] step = new double[n], loss = new double[n], lr = new double[n], grad = new double[n];
        for (int i = 0; i < n; i++) {
            Point p = points.get(i);
            step[i] = p.step();
            loss[i] = p.loss();
            lr[i] = p.lr();
            grad[i] = p.gradNorm();
        }
        List<PlotLine> lossLines = Charts.rawAndSmoothed("loss", step, loss, Charts.PALETTE[0]);
        List<PlotLine> lrLines = List.of(new PlotLine("learning rate", step, lr, Charts.PALETTE[2], 1.8f));
        List<PlotLine> gradLines = Charts.rawAndSmoothed("gradient norm", step, grad, Charts.PALETTE[1]);
        Axis x = Charts.xAxis(Charts.concat(List.of(lossLines, lrLines, gradLines)), 10);

        BufferedImage img = Charts.canvas(WIDTH, HEIGHT);
        Graphics2D g = Charts.graphics(img);
        List<Rectangle> areas = panels();
        ChartPanel.draw(g, areas.get(0), x, Charts.yAxis(lossLines, true, 6), "loss", lossLines, false);
        ChartPanel.draw(g, areas.get(1), x, Charts.yAxis(lrLines, false, 4), "learning rate", lrLines, false);
        ChartPanel.draw(g, areas.get(2), x, Charts.yAxis(gradLines, true, 3), "gradient norm", gradLines, true);
        Rectangle last = areas.get(2);
        g.setColor(Color.BLACK);
        g.setFont(ChartPanel.TITLE_FONT);
        g.drawString("Training", last.x, 30);
        g.setFont(ChartPanel.LABEL_FONT);
        String latest = latest(points);
        g.drawString(latest, last.x + last.width - g.getFontMetrics().stringWidth(latest), 30);
        ChartPanel.centred(g, "step", last.x, last.width, HEIGHT - 12);
        g.dispose();
        return ImageGrid.png(img);
    }

    /** The plot areas of the loss, learning-rate and gradient-norm panels, top to bottom. */
    static List<Rectangle> panels() {
        List<Rectangle> out = new ArrayList<>();
        int y = TOP;
        for (int h : PANEL_HEIGHTS) {
            out.add(new Rectangle(ChartPanel.LEFT, y, WIDTH - ChartPanel.LEFT - RIGHT, h));
            y += h + GAP;
        }
        return out;
    }

    /** "step 1500 · loss 0.1234 · lr 1e-4 · grad 0.53" from the last point, or "no steps logged yet". */
    static String latest(List<Point> points) {
        if (points.isEmpty()) return "no steps logged yet";
        Point p = points.get(points.size() - 1);
        return "step " + p.step() + " \u00b7 loss " + fourDigits(p.loss()) + " \u00b7 lr " + fourDigits(p.lr())
                + " \u00b7 grad norm " + fourDigits(p.gradNorm());
    }

    private static String fourDigits(double v) {
        return Double.isFinite(v) ? Ticks.format(v) : "n/a";
    }

    /**
     * The points of a run's {@code log.jsonl} (fields step, loss, lr, grad_norm; null or missing values become NaN),
     * skipping lines that do not parse, such as a torn last line.
     */
    public static List<Point> readLog(Path logJsonl) throws IOException {
        List<Point> out = new ArrayList<>();
        if (!Files.exists(logJsonl)) return out;
        for (String line : Files.readAllLines(logJsonl)) {
            try {
                Map<String, Object> m = Json.parseObject(line);
                if (!(m.get("step") instanceof Number s)) continue;
                out.add(new Point(s.longValue(), number(m, "loss"), number(m, "lr"), number(m, "grad_norm")));
            } catch (RuntimeException e) {
                // a torn or foreign line: not a point
            }
        }
        return out;
    }

    private static double number(Map<String, Object> m, String key) {
        return m.get(key) instanceof Number n ? n.doubleValue() : Double.NaN;
    }
}
