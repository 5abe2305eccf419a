package io.udit.report;

import io.udit.sample.Previews;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Golden layout arithmetic of image grids (sizes, tile and label positions), the choice between row and tile names,
 * and rendered grids kept in target/report-images for a person to look at.
 */
class ImageGridTest {
    static final List<String> FASHION = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
            "Sneaker", "Bag", "Ankle boot");

    @Test
    void plainGridMatchesTheOldArithmetic() {
        GridLayout g = GridLayout.plain(20, 8, 96, 96);
        assertEquals(3, g.rows());
        assertEquals(2 + 8 * 98, g.width());
        assertEquals(2 + 3 * 98, g.height());
        assertEquals(new Rectangle(100, 100, 96, 96), g.tile(9));
        assertEquals(new Rectangle(2 + 3 * 98, 2 + 2 * 98, 96, 96), g.tile(19));
    }

    @Test
    void fewerImagesThanColumnsGiveANarrowerGrid() {
        assertEquals(2 + 3 * 30, GridLayout.plain(3, 8, 28, 28).width());
    }

    @Test
    void tenClassesTwoEachWithRowNames() {
        GridLayout g = new GridLayout(20, 2, 96, 96, 90, 0, 24, 0);
        assertEquals(90 + 2 + 2 * 98, g.width());
        assertEquals(24 + 2 + 10 * 98, g.height());
        assertEquals(new Rectangle(90 + 2 + 98, 24 + 2 + 98, 96, 96), g.tile(3));
        assertEquals(new Rectangle(0, 24 + 2 + 4 * 98, 90, 96), g.rowLabelBand(4));
    }

    @Test
    void tenClassesTwoEachSideBySideWithTileNames() {
        assertEquals(6, Previews.columnsFor(10, 2));
        GridLayout g = new GridLayout(20, 6, 96, 96, 0, 16, 24, 0);
        assertEquals(4, g.rows());
        assertEquals(2 + 6 * 98, g.width());
        assertEquals(24 + 2 + 4 * (96 + 16 + 2), g.height());
        assertEquals(new Rectangle(100, 24 + 2 + 114, 96, 96), g.tile(7));
        assertEquals(new Rectangle(100, 24 + 2 + 114 + 96, 96, 16), g.tileLabelBand(7));
    }

    @Test
    void eightPerRowOfTwentyImages() {
        GridLayout g = new GridLayout(20, 8, 84, 84, 0, 16, 24, 0);
        assertEquals(3, g.rows());
        assertEquals(2 + 8 * 86, g.width());
        assertEquals(24 + 2 + 3 * 102, g.height());
        assertEquals(new Rectangle(2 + 3 * 86, 24 + 2 + 2 * 102, 84, 84), g.tile(19));
    }

    @Test
    void aCaptionWiderThanTheTilesWidensTheGrid() {
        GridLayout g = new GridLayout(2, 2, 28, 28, 0, 0, 24, 300);
        assertEquals(300, g.width());
        assertEquals(new Rectangle(2, 26, 28, 28), g.tile(0));
    }

    @Test
    void layoutGetsBandsFromTheLabels() {
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        java.awt.FontMetrics fm = probe.createGraphics().getFontMetrics(ImageGrid.LABEL_FONT);
        long[] labels = {0, 0, 1, 1, 2, 2};
        GridLayout rows = ImageGrid.layout(6, 2, 84, 84, ImageGrid.Labels.of("cap", Previews.namesOf(labels, FASHION), 2), fm, fm);
        assertEquals(fm.stringWidth("T-shirt/top") + 12, rows.labelColumn());
        assertEquals(0, rows.tileLabel());
        assertEquals(ImageGrid.CAPTION_BAND, rows.caption());
        GridLayout tiles = ImageGrid.layout(6, 4, 84, 84, ImageGrid.Labels.of(null, Previews.namesOf(labels, FASHION), 4), fm, fm);
        assertEquals(0, tiles.labelColumn());
        assertEquals(ImageGrid.TILE_LABEL_BAND, tiles.tileLabel());
        assertEquals(0, tiles.caption());
        assertEquals(0, tiles.minWidth());
    }

    @Test
    void columnsPerClass() {
        assertEquals(8, Previews.columnsFor(10, 8));
        assertEquals(4, Previews.columnsFor(10, 4));
        assertEquals(4, Previews.columnsFor(10, 1));
        assertEquals(4, Previews.columnsFor(3, 2));
        assertEquals(2, Previews.columnsFor(1, 2));
        assertEquals(32, Previews.columnsFor(1000, 1));
    }

    @Test
    void rowNamesWhenEachRowIsOneClassElseTileNames() {
        List<String> names = Previews.namesOf(new long[] {0, 0, 1, 1, 2, 2}, FASHION);
        ImageGrid.Labels rows = ImageGrid.Labels.of("c", names, 2);
        assertEquals(List.of("T-shirt/top", "Trouser", "Pullover"), rows.rowLabels());
        assertNull(rows.tileLabels());
        ImageGrid.Labels tiles = ImageGrid.Labels.of("c", names, 4);
        assertNull(tiles.rowLabels());
        assertEquals(names, tiles.tileLabels());
        assertEquals(List.of("Bag", "class 12"), Previews.namesOf(new long[] {8, 12}, FASHION));
    }

    @Test
    void equalNeighboursShareOneNameWithinARow() {
        List<String> names = List.of("a", "a", "b", "b", "b", "c", "c", "a");
        List<int[]> runs = ImageGrid.runs(names, 4);
        assertEquals(List.of("0-1", "2-3", "4-4", "5-6", "7-7"), runs.stream().map(r -> r[0] + "-" + r[1]).toList());
    }

    @Test
    void captions() {
        assertEquals("step 500 \u00b7 ddim 25 steps \u00b7 cfg 4.0", Previews.caption(500, "ddim", 25, 4.0));
        assertEquals("ddpm 250 steps \u00b7 cfg 1.5", Previews.caption(-1, "ddpm", 250, 1.5));
    }

    @Test
    void rendersLabelledGrids() throws Exception {
        Files.createDirectories(TrainingPlotTest.OUT);
        int zoom = Previews.zoomFor(28);
        String caption = Previews.caption(500, "ddim", 25, 4.0);
        render("grid-10x8-rows.png", 10, 8, Previews.columnsFor(10, 8), zoom, caption);
        render("grid-10x2-auto.png", 10, 2, Previews.columnsFor(10, 2), zoom, caption);
        render("grid-10x2-perrow8.png", 10, 2, 8, zoom, caption);
        render("grid-1x2-caption.png", 1, 2, Previews.columnsFor(1, 2), zoom, caption);
        BufferedImage plain = ImageGrid.grid(tiles(3, 2), 8, zoom);
        assertEquals(GridLayout.plain(6, 8, 84, 84).width(), plain.getWidth());
    }

    private static void render(String file, int classes, int perClass, int columns, int zoom, String caption) throws Exception {
        long[] labels = new long[classes * perClass];
        for (int i = 0; i < labels.length; i++) labels[i] = i / perClass;
        ImageGrid.Labels text = ImageGrid.Labels.of(caption, Previews.namesOf(labels, FASHION), columns);
        BufferedImage img = ImageGrid.grid(tiles(classes, perClass), columns, zoom, text);
        byte[] png = ImageGrid.png(img);
        Files.write(TrainingPlotTest.OUT.resolve(file), png);
        BufferedImage back = ImageIO.read(new ByteArrayInputStream(png));
        assertEquals(img.getWidth(), back.getWidth());
        assertEquals(img.getHeight(), back.getHeight());
    }

    /** 28 x 28 grey tiles: a disc whose size and brightness follow the class, shifted a little per sample. */
    static List<BufferedImage> tiles(int classes, int perClass) {
        List<BufferedImage> out = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            for (int i = 0; i < perClass; i++) {
                BufferedImage t = new BufferedImage(28, 28, BufferedImage.TYPE_INT_RGB);
                Graphics2D g = t.createGraphics();
                g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
                int v = 120 + 13 * c, r = 6 + c;
                g.setColor(new Color(v, v, v));
                g.fillOval(14 - r / 2 + i % 3 - 1, 14 - r / 2, r, r + 4);
                g.dispose();
                out.add(t);
            }
        }
        return out;
    }
}
