package io.udit.report;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A PNG line chart with one panel: each series drawn raw in a light colour with its moving average on top, both in
 * the legend, round-number ticks, and an optional log-scale y axis.
 */
public final class LinePlot {
    static final int WIDTH = 900, HEIGHT = 520, TOP = 44, RIGHT = 24, BOTTOM = 58;

    private LinePlot() {}

    /** One named series of (x, y) points. */
    public record Series(String name, double[] x, double[] y) {}

    /** Renders the series as PNG bytes. */
    public static byte[] png(String title, String xLabel, String yLabel, List<Series> series, boolean logY) throws IOException {
        List<PlotLine> lines = new ArrayList<>();
        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            lines.addAll(Charts.rawAndSmoothed(s.name(), s.x(), s.y(), Charts.PALETTE[i % Charts.PALETTE.length]));
        }
        BufferedImage img = Charts.canvas(WIDTH, HEIGHT);
        Graphics2D g = Charts.graphics(img);
        Rectangle area = new Rectangle(ChartPanel.LEFT, TOP, WIDTH - ChartPanel.LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
        ChartPanel.draw(g, area, Charts.xAxis(lines, 8), Charts.yAxis(lines, logY, 6), yLabel, lines, true);
        g.setColor(Color.BLACK);
        g.setFont(ChartPanel.TITLE_FONT);
        g.drawString(title, area.x, 28);
        g.setFont(ChartPanel.LABEL_FONT);
        ChartPanel.centred(g, xLabel, area.x, area.width, HEIGHT - 12);
        g.dispose();
        return ImageGrid.png(img);
    }
}
