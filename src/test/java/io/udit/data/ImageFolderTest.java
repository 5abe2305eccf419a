package io.udit.data;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderTest {
    @TempDir Path tmp;

    interface Px {
        int rgb(int x, int y);
    }

    static BufferedImage rgbImage(int w, int h, Px f) {
        BufferedImage im = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) im.setRGB(x, y, f.rgb(x, y));
        return im;
    }

    static Path write(BufferedImage im, Path file) throws IOException {
        Files.createDirectories(file.getParent());
        String n = file.getFileName().toString();
        assertTrue(ImageIO.write(im, n.substring(n.lastIndexOf('.') + 1), file.toFile()), "writer for " + n);
        return file;
    }

    static int v(float f) {
        return Math.round((f + 1) * 127.5f);
    }

    @Test
    void classLayoutOrderAndLabels() throws IOException {
        BufferedImage im = rgbImage(32, 32, (x, y) -> 0x808080);
        write(im, tmp.resolve("b_dogs/1.png"));
        write(im, tmp.resolve("b_dogs/0.jpg"));
        write(im, tmp.resolve("a_cats/z.png"));
        write(im, tmp.resolve("a_cats/sub/a.png"));
        write(im, tmp.resolve("a_cats/sub-x/a.bmp"));
        write(im, tmp.resolve("a_cats/sub/deep/b.png"));
        write(im, tmp.resolve("a_cats/.hidden/a.png"));
        Files.writeString(tmp.resolve("a_cats/notes.txt"), "hello");
        Files.writeString(tmp.resolve("README"), "top-level file");
        Files.createDirectories(tmp.resolve(".ipynb_checkpoints"));
        ImageFolder ds = new ImageFolder(tmp, 32);
        assertEquals(List.of("a_cats", "b_dogs"), ds.classNames());
        assertEquals(6, ds.size());
        // sorted(os.walk()) sorts roots as strings: "a_cats/sub" < "a_cats/sub-x" < "a_cats/sub/deep" because
        // '-' (0x2d) < '/' (0x2f); checked with Python
        String[] expect = {"a_cats/z.png", "a_cats/sub/a.png", "a_cats/sub-x/a.bmp", "a_cats/sub/deep/b.png",
                "b_dogs/0.jpg", "b_dogs/1.png"};
        int[] labels = {0, 0, 0, 0, 1, 1};
        for (int i = 0; i < expect.length; i++) {
            assertEquals(tmp.resolve(expect[i]), ds.file(i), "file " + i);
            assertEquals(labels[i], ds.label(i));
            assertEquals(labels[i], ds.read(i, new float[ds.sampleSize()], new SplittableRandom(i)));
        }
        assertEquals(List.of("README", "a_cats/notes.txt"), ds.skipped());
        assertTrue(ds.describe().contains("2 non-image files skipped"), ds.describe());
        DataException e = assertThrows(DataException.class, () -> new ImageFolder(tmp, 32, true, true, false));
        assertTrue(e.getMessage().contains("README") && e.getMessage().contains("not an image"), e.getMessage());
    }

    @Test
    void flatFolderIsOneClass() throws IOException {
        Path d = tmp.resolve("faces");
        write(rgbImage(40, 40, (x, y) -> 0), d.resolve("a.png"));
        write(rgbImage(40, 40, (x, y) -> 0), d.resolve("b.gif"));
        ImageFolder ds = new ImageFolder(d, 32);
        assertEquals(List.of("faces"), ds.classNames());
        assertEquals(2, ds.size());
    }

    @Test
    void emptyClassAndEmptyFolderAreErrors() throws IOException {
        write(rgbImage(32, 32, (x, y) -> 0), tmp.resolve("a/x.png"));
        Files.createDirectories(tmp.resolve("b"));
        DataException e = assertThrows(DataException.class, () -> new ImageFolder(tmp, 32));
        assertTrue(e.getMessage().contains("b") && e.getMessage().contains("no images"), e.getMessage());
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertThrows(DataException.class, () -> new ImageFolder(empty, 32));
        assertThrows(DataException.class, () -> new ImageFolder(tmp.resolve("missing"), 32));
    }

    /** 64x32 at size 32: no resampling, the crop takes columns 16..47. */
    @Test
    void centerCropGeometryWithoutResampling() throws IOException {
        Path f = write(rgbImage(64, 32, (x, y) -> (x * 4) << 16 | (y * 8) << 8 | 77), tmp.resolve("c/a.png"));
        ImageFolder ds = new ImageFolder(tmp, 32, false, true, false);
        float[] out = new float[ds.sampleSize()];
        ds.read(0, out, new SplittableRandom(0));
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++) {
                assertEquals((x + 16) * 4, v(out[y * 32 + x]), "R at " + x + "," + y);
                assertEquals(y * 8, v(out[1024 + y * 32 + x]));
                assertEquals(77, v(out[2048 + y * 32 + x]));
            }
        assertTrue(Files.exists(f));
    }

    /** 128x200 of 4x4 blocks at size 32: halved twice by BOX (exact on blocks) to 32x50, cropped rows 9..40. */
    @Test
    void centerCropGeometryWithHalving() throws IOException {
        write(rgbImage(128, 200, (x, y) -> ((x / 4) * 8) << 16 | ((y / 4) * 5) << 8), tmp.resolve("c/a.png"));
        ImageFolder ds = new ImageFolder(tmp, 32, false, true, false);
        float[] out = new float[ds.sampleSize()];
        ds.read(0, out, null);
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++) {
                assertEquals(x * 8, v(out[y * 32 + x]), "R at " + x + "," + y);
                assertEquals((y + 9) * 5, v(out[1024 + y * 32 + x]), "G at " + x + "," + y);
            }
    }

    /** PNG decode + ADM crop + scaling, end to end against Pillow (fixture crop_150x101_to_32). */
    @Test
    void endToEndMatchesPillow() throws IOException {
        byte[] p = PilResampleTest.pattern(150, 101);
        write(rgbImage(150, 101, (x, y) -> {
            int o = (y * 150 + x) * 3;
            return (p[o] & 0xff) << 16 | (p[o + 1] & 0xff) << 8 | (p[o + 2] & 0xff);
        }), tmp.resolve("k/img.PNG"));
        ImageFolder ds = new ImageFolder(tmp, 32, false, true, false);
        float[] out = new float[ds.sampleSize()];
        ds.read(0, out, null);
        byte[] want = PilResampleTest.fixture("crop_150x101_to_32");
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 1024; i++) {
                float expect = ((want[i * 3 + c] & 0xff) / 255f - 0.5f) / 0.5f; // ToTensor + Normalize in float32
                assertEquals(expect, out[c * 1024 + i], "channel " + c + " pixel " + i);
            }
    }

    @Test
    void randomFlipMirrorsAboutHalfTheTime() throws IOException {
        write(rgbImage(32, 32, (x, y) -> (x * 8) << 16), tmp.resolve("c/a.png"));
        ImageFolder ds = new ImageFolder(tmp, 32, true, true, false);
        float[] out = new float[ds.sampleSize()];
        int flipped = 0;
        for (int s = 0; s < 200; s++) {
            ds.read(0, out, new SplittableRandom(s));
            boolean f = v(out[0]) == 31 * 8;
            if (!f) assertEquals(0, v(out[0]));
            for (int x = 0; x < 32; x++) assertEquals((f ? 31 - x : x) * 8, v(out[5 * 32 + x]));
            if (f) flipped++;
        }
        assertTrue(flipped > 70 && flipped < 130, "flipped " + flipped + " of 200");
        float[] again = new float[ds.sampleSize()];
        ds.read(0, out, new SplittableRandom(42));
        ds.read(0, again, new SplittableRandom(42));
        assertArrayEquals(out, again);
        ImageFolder noFlip = new ImageFolder(tmp, 32, false, true, false);
        for (int s = 0; s < 20; s++) {
            noFlip.read(0, out, new SplittableRandom(s));
            assertEquals(0, v(out[0]));
        }
    }

    @Test
    void greyPaletteAlphaAndSixteenBitConvertLikePillow() throws IOException {
        BufferedImage grey = new BufferedImage(32, 32, BufferedImage.TYPE_BYTE_GRAY);
        WritableRaster r = grey.getRaster();
        for (int y = 0; y < 32; y++) for (int x = 0; x < 32; x++) r.setSample(x, y, 0, x * 8);
        write(grey, tmp.resolve("c/0grey.png"));
        byte[] red = new byte[4], green = new byte[4], blue = new byte[4];
        int[][] pal = {{10, 20, 30}, {200, 100, 50}, {0, 255, 0}, {255, 255, 255}};
        for (int i = 0; i < 4; i++) {
            red[i] = (byte) pal[i][0];
            green[i] = (byte) pal[i][1];
            blue[i] = (byte) pal[i][2];
        }
        BufferedImage indexed = new BufferedImage(32, 32, BufferedImage.TYPE_BYTE_INDEXED,
                new IndexColorModel(8, 4, red, green, blue));
        for (int y = 0; y < 32; y++) for (int x = 0; x < 32; x++) indexed.getRaster().setSample(x, y, 0, (x + y) % 4);
        write(indexed, tmp.resolve("c/1palette.png"));
        write(indexed, tmp.resolve("c/2palette.gif"));
        BufferedImage argb = new BufferedImage(32, 32, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < 32; y++) for (int x = 0; x < 32; x++) argb.setRGB(x, y, (x * 8) << 24 | 0x00C86432);
        write(argb, tmp.resolve("c/3alpha.png"));
        BufferedImage g16 = new BufferedImage(32, 32, BufferedImage.TYPE_USHORT_GRAY);
        for (int y = 0; y < 32; y++) for (int x = 0; x < 32; x++) g16.getRaster().setSample(x, y, 0, x * 2048 + 255);
        write(g16, tmp.resolve("c/4grey16.png"));
        ImageFolder ds = new ImageFolder(tmp, 32, false, true, false);
        float[] out = new float[ds.sampleSize()];
        ds.read(0, out, null); // grey: raw values replicated (no gamma conversion)
        for (int c = 0; c < 3; c++) for (int x = 0; x < 32; x++) assertEquals(x * 8, v(out[c * 1024 + 7 * 32 + x]));
        for (int k = 1; k <= 2; k++) {
            ds.read(k, out, null);
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++)
                    for (int c = 0; c < 3; c++)
                        assertEquals(pal[(x + y) % 4][c], v(out[c * 1024 + y * 32 + x]), ds.file(k) + " " + x + "," + y);
        }
        ds.read(3, out, null); // alpha dropped, colour kept even where fully transparent
        for (int x = 0; x < 32; x++) {
            assertEquals(0xC8, v(out[x]));
            assertEquals(0x64, v(out[1024 + x]));
            assertEquals(0x32, v(out[2048 + x]));
        }
        ds.read(4, out, null); // 16-bit grey: high byte
        for (int x = 0; x < 32; x++) assertEquals(x * 8, v(out[x]));
    }

    @Test
    void jpegDecodes() throws IOException {
        write(rgbImage(48, 40, (x, y) -> 0x3C78B4), tmp.resolve("c/a.jpg"));
        ImageFolder ds = new ImageFolder(tmp, 32);
        float[] out = new float[ds.sampleSize()];
        ds.read(0, out, new SplittableRandom(1));
        for (int i = 0; i < 1024; i++) {
            assertEquals(0x3C, v(out[i]), 4);
            assertEquals(0x78, v(out[1024 + i]), 4);
            assertEquals(0xB4, v(out[2048 + i]), 4);
        }
    }

    /** PNG signature and an IHDR chunk (8-bit RGB) announcing w x h, nothing else. */
    static byte[] pngHeader(int w, int h) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + 25);
        b.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10}).putInt(13);
        int start = b.position();
        b.put(new byte[] {'I', 'H', 'D', 'R'}).putInt(w).putInt(h).put((byte) 8).put((byte) 2).put((byte) 0)
                .put((byte) 0).put((byte) 0);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(b.array(), start, 17);
        b.putInt((int) crc.getValue());
        return b.array();
    }

    @Test
    void corruptAndTooSmallImagesNameTheFile() throws IOException {
        write(rgbImage(32, 32, (x, y) -> 0), tmp.resolve("c/good.png"));
        Files.write(tmp.resolve("c/broken.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0, 0});
        Files.writeString(tmp.resolve("c/text.jpg"), "this is not a jpeg");
        write(rgbImage(20, 40, (x, y) -> 0), tmp.resolve("c/small.png"));
        byte[] png = Files.readAllBytes(tmp.resolve("c/good.png"));
        Files.write(tmp.resolve("c/truncated.png"), java.util.Arrays.copyOf(png, png.length / 2));
        Files.write(tmp.resolve("c/huge.png"), pngHeader(100_000, 100_000)); // decompression bomb: header only
        ImageFolder ds = new ImageFolder(tmp, 32);
        float[] out = new float[ds.sampleSize()];
        for (int i = 0; i < ds.size(); i++) {
            String name = ds.file(i).getFileName().toString();
            if (name.equals("good.png")) {
                ds.read(i, out, null);
                continue;
            }
            int ii = i;
            DataException e = assertThrows(DataException.class, () -> ds.read(ii, out, null), name);
            assertTrue(e.getMessage().contains(name), e.getMessage());
            if (name.equals("small.png")) assertTrue(e.getMessage().contains("20x40"), e.getMessage());
            if (name.equals("huge.png")) assertTrue(e.getMessage().contains("too large"), e.getMessage());
        }
        ImageFolder up = new ImageFolder(tmp, 32, false, false, true);
        for (int i = 0; i < up.size(); i++)
            if (up.file(i).getFileName().toString().equals("small.png")) up.read(i, out, null);
    }
}
