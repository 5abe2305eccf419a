package io.udit.report;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Objects;

/**
 * Images (uint8 NHWC, 1 or 3 channels) laid out on a grid with a 2-pixel border, as PNG; optionally with a caption
 * on top and class names beside each row or under each tile ({@link Labels}).
 */
public final class ImageGrid {
    static final Font LABEL_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    static final Font CAPTION_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 13);
    static final int CAPTION_BAND = 24, TILE_LABEL_BAND = 17, MAX_LABEL_COLUMN = 160;
    private static final Color INK = new Color(40, 40, 40);
    private static final Color RULE = new Color(190, 190, 190);

    private ImageGrid() {}

    /**
     * The text around a grid: a caption (null for none) and either one name per row or one name per tile (the other
     * null). {@link #of} picks row names when every row holds a single class.
     */
    public record Labels(String caption, List<String> rowLabels, List<String> tileLabels) {
        /** No text at all. */
        public static final Labels NONE = new Labels(null, null, null);

        /**
         * Labels for images named {@code names} (one per image, e.g. class names; null for none) laid out in
         * {@code columns} columns: names beside the rows when each row holds one name, else under each tile.
         */
        public static Labels of(String caption, List<String> names, int columns) {
            if (names == null || names.isEmpty()) return new Labels(caption, null, null);
            List<String> rows = new java.util.ArrayList<>();
            for (int start = 0; start < names.size(); start += columns) {
                List<String> row = names.subList(start, Math.min(names.size(), start + columns));
                if (row.stream().anyMatch(n -> !Objects.equals(n, row.get(0)))) return new Labels(caption, null, names);
                rows.add(row.get(0));
            }
            return new Labels(caption, rows, null);
        }
    }

    /** An RGB image from uint8 HWC pixels (1 channel is shown as grey). */
    public static BufferedImage toImage(byte[] hwc, int h, int w, int c) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int base = (y * w + x) * c;
                int r = hwc[base] & 0xff, gg = c >= 3 ? hwc[base + 1] & 0xff : r, b = c >= 3 ? hwc[base + 2] & 0xff : r;
                img.setRGB(x, y, (r << 16) | (gg << 8) | b);
            }
        }
        return img;
    }

    /** A grid of the given images (each h x w), {@code columns} per row, scaled up by an integer {@code zoom}. */
    public static BufferedImage grid(List<BufferedImage> images, int columns, int zoom) {
        return grid(images, columns, zoom, Labels.NONE);
    }

    /** As {@link #grid(List, int, int)}, with a caption and row or tile names. */
    public static BufferedImage grid(List<BufferedImage> images, int columns, int zoom, Labels labels) {
        if (images.isEmpty()) return new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        int h = images.get(0).getHeight() * zoom, w = images.get(0).getWidth() * zoom;
        BufferedImage out = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D probe = out.createGraphics();
        GridLayout layout = layout(images.size(), columns, w, h, labels, probe.getFontMetrics(LABEL_FONT),
                probe.getFontMetrics(CAPTION_FONT));
        probe.dispose();
        out = new BufferedImage(layout.width(), layout.height(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
        for (int i = 0; i < images.size(); i++) {
            Rectangle t = layout.tile(i);
            g.drawImage(images.get(i), t.x, t.y, t.width, t.height, null);
        }
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(INK);
        drawText(g, layout, labels);
        g.dispose();
        return out;
    }

    /** The layout for {@code labels}: label column as wide as the widest row name (capped), bands where needed. */
    static GridLayout layout(int count, int columns, int tileWidth, int tileHeight, Labels labels, FontMetrics label,
                             FontMetrics caption) {
        int labelColumn = 0;
        if (labels.rowLabels() != null) {
            for (String s : labels.rowLabels()) labelColumn = Math.max(labelColumn, label.stringWidth(s));
            labelColumn = Math.min(MAX_LABEL_COLUMN, labelColumn + 12);
        }
        int tileLabel = labels.tileLabels() != null ? TILE_LABEL_BAND : 0;
        int captionBand = labels.caption() != null ? CAPTION_BAND : 0;
        int minWidth = labels.caption() != null ? caption.stringWidth(labels.caption()) + 16 : 0;
        return new GridLayout(count, columns, tileWidth, tileHeight, labelColumn, tileLabel, captionBand, minWidth);
    }

    private static void drawText(Graphics2D g, GridLayout layout, Labels labels) {
        if (labels.caption() != null) {
            g.setFont(CAPTION_FONT);
            g.drawString(labels.caption(), 8, (CAPTION_BAND + g.getFontMetrics().getAscent()) / 2);
        }
        g.setFont(LABEL_FONT);
        FontMetrics fm = g.getFontMetrics();
        if (labels.rowLabels() != null) {
            for (int r = 0; r < Math.min(layout.rows(), labels.rowLabels().size()); r++) {
                Rectangle band = layout.rowLabelBand(r);
                String s = fit(labels.rowLabels().get(r), band.width - 10, fm);
                g.drawString(s, band.x + band.width - 6 - fm.stringWidth(s), band.y + (band.height + fm.getAscent()) / 2 - 2);
            }
        }
        if (labels.tileLabels() != null) {
            List<String> names = labels.tileLabels().subList(0, Math.min(layout.count(), labels.tileLabels().size()));
            for (int[] run : runs(names, layout.columns())) {
                Rectangle first = layout.tileLabelBand(run[0]), last = layout.tileLabelBand(run[1]);
                int width = last.x + last.width - first.x;
                if (run[1] > run[0]) { // a light rule groups the run's tiles under their name
                    g.setColor(RULE);
                    g.drawLine(first.x + 3, first.y + 2, first.x + width - 4, first.y + 2);
                    g.setColor(INK);
                }
                String s = fit(names.get(run[0]), width - 2, fm);
                g.drawString(s, first.x + (width - fm.stringWidth(s)) / 2, first.y + fm.getAscent() + 2);
            }
        }
    }

    /**
     * Runs of equal neighbouring names within each row, as {first, last} tile indices: one name is written under a
     * whole run (both samples of a class), not under every tile.
     */
    static List<int[]> runs(List<String> names, int columns) {
        List<int[]> out = new java.util.ArrayList<>();
        for (int i = 0; i < names.size(); ) {
            int j = i;
            while (j + 1 < names.size() && (j + 1) % columns != 0 && Objects.equals(names.get(j + 1), names.get(i))) j++;
            out.add(new int[] {i, j});
            i = j + 1;
        }
        return out;
    }

    /** {@code s}, cut and ended with an ellipsis when wider than {@code width} pixels. */
    static String fit(String s, int width, FontMetrics fm) {
        if (s == null) return "";
        if (fm.stringWidth(s) <= width) return s;
        for (int n = s.length() - 1; n > 0; n--) {
            String t = s.substring(0, n) + "\u2026";
            if (fm.stringWidth(t) <= width) return t;
        }
        return "";
    }

    /** The image as PNG bytes. */
    public static byte[] png(BufferedImage img) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        ImageIO.write(img, "png", bos);
        return bos.toByteArray();
    }
}
