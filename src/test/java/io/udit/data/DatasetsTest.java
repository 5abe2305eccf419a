package io.udit.data;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {
    @TempDir Path tmp;

    @Test
    void synthetic() {
        Dataset d = Datasets.open("synthetic");
        assertInstanceOf(SyntheticShapes.class, d);
        assertEquals(10, d.numClasses());
        assertEquals(32, d.resolution());
        assertEquals(50_000, d.size());
        Dataset four = Datasets.open("synthetic:4", new Datasets.Options().resolution(16).size(100).seed(3));
        assertEquals(4, four.numClasses());
        assertEquals(16, four.resolution());
        assertEquals(100, four.size());
        assertThrows(DataException.class, () -> Datasets.open("synthetic:x"));
        assertThrows(DataException.class, () -> Datasets.open("synthetic:0"));
    }

    @Test
    void fashionMnistFromAFolder() throws IOException {
        byte[] img = FashionMnistTest.idx(3, new int[] {3, 28, 28}, new byte[3 * 784]);
        byte[] lab = FashionMnistTest.idx(1, new int[] {3}, new byte[] {4, 5, 6});
        Files.write(tmp.resolve("t10k-images-idx3-ubyte"), img);
        Files.write(tmp.resolve("t10k-labels-idx1-ubyte"), lab);
        Dataset d = Datasets.open("fashion-mnist:" + tmp, new Datasets.Options().train(false));
        assertInstanceOf(FashionMnist.class, d);
        assertEquals(3, d.size());
        assertEquals(32, d.resolution());
        DataException e = assertThrows(DataException.class, () -> Datasets.open("fashion-mnist:" + tmp));
        assertTrue(e.getMessage().contains("train-images-idx3-ubyte"), e.getMessage());
    }

    @Test
    void foldersAreDetectedByLayout() throws IOException {
        Path images = tmp.resolve("imgs");
        Files.createDirectories(images.resolve("cat"));
        ImageIO.write(new BufferedImage(40, 40, BufferedImage.TYPE_INT_RGB), "png", images.resolve("cat/a.png").toFile());
        Dataset d = Datasets.open(images.toString(), new Datasets.Options().resolution(32));
        assertInstanceOf(ImageFolder.class, d);
        assertEquals(32, d.resolution());
        assertEquals(256, Datasets.open("images:" + images).resolution()); // DiT's default image size

        Path lat = tmp.resolve("features");
        LatentFolderTest.feature(lat.resolve("imagenet256_features/0.npy"), new long[] {1, 4, 4, 4}, 0);
        LatentFolderTest.label(lat.resolve("imagenet256_labels/0.npy"), 2);
        Dataset l = Datasets.open(lat.toString());
        assertInstanceOf(LatentFolder.class, l);
        assertFalse(l.isImage());
        assertEquals(3, l.numClasses());
        assertInstanceOf(LatentFolder.class, Datasets.open("latents:" + lat, new Datasets.Options().numClasses(1000)));
        assertThrows(DataException.class, () -> Datasets.open(lat.toString(), new Datasets.Options().resolution(32)));

        DataException e = assertThrows(DataException.class, () -> Datasets.open(tmp.resolve("nothing").toString()));
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
        assertThrows(DataException.class, () -> Datasets.open(""));
    }

    @Test
    void unconditionalMapsEveryLabelToZero() {
        Dataset d = Datasets.open("synthetic", new Datasets.Options().size(30).unconditional(true));
        assertEquals(1, d.numClasses());
        assertEquals(List.of("unconditional"), d.classNames());
        float[] x = new float[d.sampleSize()], y = new float[d.sampleSize()];
        SyntheticShapes s = new SyntheticShapes(0, 32, 30, 10);
        for (int i = 0; i < 30; i++) {
            assertEquals(0, d.read(i, x, new SplittableRandom(0)));
            s.read(i, y, null);
            assertArrayEquals(y, x);
        }
        assertSame(d, Datasets.unconditional(d));
        try (BatchLoader l = BatchLoader.builder(d, 8).workers(1).build()) {
            for (long v : l.next().y()) assertEquals(0, v);
        }
    }
}
