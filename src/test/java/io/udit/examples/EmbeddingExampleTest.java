package io.udit.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The README's embedding example keeps running. */
class EmbeddingExampleTest {
    @TempDir
    Path tmp;

    @Test
    void exampleRunsEndToEnd() throws Exception {
        EmbeddingExample.main(new String[] {"3", tmp.toString()});
        BufferedImage grid = ImageIO.read(tmp.resolve("example-grid.png").toFile());
        assertEquals(4 * (16 * 6 + 2) + 2, grid.getWidth()); // four 16x16 images enlarged 6x
    }
}
