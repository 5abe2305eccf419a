package io.udit.report;

import java.awt.Rectangle;

/**
 * Where everything goes in an image grid, as plain arithmetic: an optional caption band on top, an optional label
 * column on the left (one name per row), tiles flowing row-major in {@code columns} columns, each optionally with a
 * name band under it, and {@link #PAD} pixels between and around tiles. The grid is at least {@code minWidth} wide
 * (so a caption fits above a narrow grid); extra width stays blank on the right.
 */
public record GridLayout(int count, int columns, int tileWidth, int tileHeight, int labelColumn, int tileLabel,
                         int caption, int minWidth) {
    /** Pixels between tiles and around the grid. */
    public static final int PAD = 2;

    public GridLayout {
        if (count < 0 || columns < 1 || tileWidth < 1 || tileHeight < 1) {
            throw new IllegalArgumentException("grid of " + count + " tiles in " + columns + " columns of "
                    + tileWidth + "x" + tileHeight);
        }
    }

    /** A grid without any text. */
    public static GridLayout plain(int count, int columns, int tileWidth, int tileHeight) {
        return new GridLayout(count, columns, tileWidth, tileHeight, 0, 0, 0, 0);
    }

    /** Rows of tiles; the last may be partly filled. */
    public int rows() {
        return (count + columns - 1) / columns;
    }

    /** Columns actually used: fewer than {@code columns} when there are fewer tiles. */
    public int usedColumns() {
        return Math.max(1, Math.min(columns, count));
    }

    /** Width in pixels: label column, tiles and padding, at least {@code minWidth}. */
    public int width() {
        return Math.max(minWidth, labelColumn + PAD + usedColumns() * (tileWidth + PAD));
    }

    /** Height in pixels: caption band, then each row's tiles, name bands and padding. */
    public int height() {
        return caption + PAD + rows() * (tileHeight + tileLabel + PAD);
    }

    /** The pixel rectangle of tile {@code i} (without its name band). */
    public Rectangle tile(int i) {
        int row = i / columns, col = i % columns;
        return new Rectangle(labelColumn + PAD + col * (tileWidth + PAD), caption + PAD + row * (tileHeight + tileLabel + PAD),
                tileWidth, tileHeight);
    }

    /** The band under tile {@code i} that holds its name. */
    public Rectangle tileLabelBand(int i) {
        Rectangle t = tile(i);
        return new Rectangle(t.x, t.y + t.height, t.width, tileLabel);
    }

    /** The part of the label column beside row {@code row}. */
    public Rectangle rowLabelBand(int row) {
        Rectangle first = tile(row * columns);
        return new Rectangle(0, first.y, labelColumn, tileHeight);
    }
}
