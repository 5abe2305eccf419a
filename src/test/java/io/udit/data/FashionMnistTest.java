package io.udit.data;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {
    @TempDir Path tmp;

    static byte[] idx(int ndims, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * ndims + data.length);
        b.put((byte) 0).put((byte) 0).put((byte) 8).put((byte) ndims);
        for (int d : dims) b.putInt(d);
        b.put(data);
        return b.array();
    }

    static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (OutputStream o = new GZIPOutputStream(bo)) {
            o.write(raw);
        }
        return bo.toByteArray();
    }

    /** n images of 28x28 where image i has pixel value (i * 7 + x) & 0xff at column x, label i % 10. */
    void writeSet(Path dir, String split, int n, boolean gz) throws IOException {
        byte[] img = new byte[n * 784];
        for (int i = 0; i < n; i++)
            for (int p = 0; p < 784; p++) img[i * 784 + p] = (byte) (i * 7 + p % 28);
        byte[] lab = new byte[n];
        for (int i = 0; i < n; i++) lab[i] = (byte) (i % 10);
        byte[] a = idx(3, new int[] {n, 28, 28}, img), b = idx(1, new int[] {n}, lab);
        String sfx = gz ? ".gz" : "";
        Files.write(dir.resolve(split + "-images-idx3-ubyte" + sfx), gz ? gzip(a) : a);
        Files.write(dir.resolve(split + "-labels-idx1-ubyte" + sfx), gz ? gzip(b) : b);
    }

    @Test
    void realDebianFiles() {
        Path dir = Path.of(FashionMnist.DEFAULT_DIR);
        assumeTrue(Files.isDirectory(dir), "Debian package dataset-fashion-mnist not installed");
        FashionMnist train = new FashionMnist();
        FashionMnist test = new FashionMnist(dir, false);
        assertEquals(60000, train.size());
        assertEquals(10000, test.size());
        assertEquals(32, train.resolution());
        assertEquals(1, train.channels());
        int[] hist = new int[10];
        for (int i = 0; i < train.size(); i++) hist[train.label(i)]++;
        for (int c = 0; c < 10; c++) assertEquals(6000, hist[c]);
        float[] x = new float[32 * 32];
        assertEquals(9, train.read(0, x, null));
        assertEquals("Ankle boot", train.classNames().get(9));
        assertEquals(0, train.label(1));
        assertEquals(3, train.label(3));
        // padding is -1, and the first image's pixel sum matches the file (76247, computed independently)
        double sum = 0;
        for (int y = 0; y < 32; y++)
            for (int xx = 0; xx < 32; xx++) {
                float v = x[y * 32 + xx];
                if (y < 2 || y >= 30 || xx < 2 || xx >= 30) assertEquals(-1f, v);
                else sum += (v + 1) * 127.5;
            }
        assertEquals(76247, sum, 0.5);
        // row 14 of the first image, column 27 is 0x00, column 26 0x4d, column 3 0x04
        assertEquals(0x4d / 127.5f - 1, x[(14 + 2) * 32 + 26 + 2], 1e-6);
        assertEquals(0x04 / 127.5f - 1, x[(14 + 2) * 32 + 3 + 2], 1e-6);
        assertEquals(9, test.read(0, x, null));
        FashionMnist nat = new FashionMnist(dir, false, 28, false);
        float[] y = new float[28 * 28];
        nat.read(0, y, null);
        assertEquals(x[(14 + 2) * 32 + 26 + 2], y[14 * 28 + 26]);
    }

    @Test
    void handMadeRawAndGzip() throws IOException {
        for (boolean gz : new boolean[] {false, true}) {
            Path d = Files.createDirectories(tmp.resolve("set" + gz));
            writeSet(d, "train", 25, gz);
            writeSet(d, "t10k", 5, gz);
            FashionMnist ds = new FashionMnist(d, true, 28, false);
            assertEquals(25, ds.size());
            float[] x = new float[28 * 28];
            assertEquals(3, ds.read(13, x, null));
            for (int p = 0; p < 784; p++) assertEquals(((13 * 7 + p % 28) & 0xff) / 127.5f - 1, x[p], 1e-6);
            assertEquals(5, new FashionMnist(d, false).size());
        }
    }

    @Test
    void padAndFlip() throws IOException {
        writeSet(tmp, "train", 4, false);
        FashionMnist ds = new FashionMnist(tmp, true, 32, true);
        float[] x = new float[32 * 32];
        boolean sawFlip = false, sawPlain = false;
        SplittableRandom rng = new SplittableRandom(5);
        for (int k = 0; k < 20; k++) {
            ds.read(1, x, rng);
            float left = x[2 * 32 + 2], right = x[2 * 32 + 29];
            float v0 = (7 & 0xff) / 127.5f - 1, v27 = (7 + 27) / 127.5f - 1;
            if (left == v0 && right == v27) sawPlain = true;
            else if (left == v27 && right == v0) sawFlip = true;
            else fail("neither plain nor flipped: " + left + " " + right);
            assertEquals(-1f, x[0]);
            assertEquals(-1f, x[31 * 32 + 31]);
        }
        assertTrue(sawFlip && sawPlain);
        assertThrows(DataException.class, () -> new FashionMnist(tmp, true, 20, false));
    }

    private String error(Path dir) {
        DataException e = assertThrows(DataException.class, () -> new FashionMnist(dir, true, 32, false));
        return e.getMessage();
    }

    @Test
    void missingFolderAndFiles() throws IOException {
        assertTrue(error(tmp.resolve("nope")).contains("does not exist"));
        assertTrue(error(tmp).contains("train-images-idx3-ubyte"));
    }

    @Test
    void truncatedRawImages() throws IOException {
        writeSet(tmp, "train", 10, false);
        Path f = tmp.resolve("train-images-idx3-ubyte");
        byte[] all = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(all, all.length - 100));
        String m = error(tmp);
        assertTrue(m.contains("train-images-idx3-ubyte") && m.contains("truncated"), m);
        Files.write(f, Arrays.copyOf(all, 10));
        m = error(tmp);
        assertTrue(m.contains("truncated IDX header"), m);
    }

    @Test
    void truncatedGzip() throws IOException {
        writeSet(tmp, "train", 10, true);
        Path f = tmp.resolve("train-images-idx3-ubyte.gz");
        byte[] all = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(all, all.length / 2));
        String m = error(tmp);
        assertTrue(m.contains("train-images-idx3-ubyte.gz") && m.contains("truncated"), m);
        byte[] bad = all.clone();
        bad[bad.length - 6] ^= 0x55; // CRC
        Files.write(f, bad);
        m = error(tmp);
        assertTrue(m.contains("train-images-idx3-ubyte.gz") && m.contains("corrupt"), m);
        Files.write(f, Arrays.copyOf(new byte[] {1, 2, 3}, 3));
        m = error(tmp);
        assertTrue(m.contains("not gzip data"), m);
    }

    @Test
    void corruptHeaders() throws IOException {
        writeSet(tmp, "train", 10, false);
        Path f = tmp.resolve("train-images-idx3-ubyte");
        byte[] good = Files.readAllBytes(f);
        byte[] b = good.clone();
        b[0] = 0x12;
        Files.write(f, b);
        assertTrue(error(tmp).contains("not an IDX file"));
        b = good.clone();
        b[2] = 0x0d; // float elements
        Files.write(f, b);
        assertTrue(error(tmp).contains("not unsigned byte"));
        b = good.clone();
        b[3] = 2;
        Files.write(f, b);
        assertTrue(error(tmp).contains("2 dimensions, expected 3"));
        b = good.clone();
        ByteBuffer.wrap(b).putInt(4, 0x7fffffff); // absurd count: must not allocate
        Files.write(f, b);
        String m = error(tmp);
        assertTrue(m.contains("promise") || m.contains("truncated"), m);
        b = good.clone();
        ByteBuffer.wrap(b).putInt(4, -5);
        Files.write(f, b);
        assertTrue(error(tmp).contains("dimension 0 is 4294967291"));
        b = good.clone();
        ByteBuffer.wrap(b).putInt(4, 5); // fewer images than bytes: trailing data
        Files.write(f, b);
        assertTrue(error(tmp).contains("unexpected bytes"));
        // gzip bytes in a raw-named file
        Files.write(f, gzip(good));
        assertTrue(error(tmp).contains("gzip"));
        // gzip with a huge claimed count
        b = good.clone();
        ByteBuffer.wrap(b).putInt(4, 2_000_000);
        Files.delete(f);
        Files.write(tmp.resolve("train-images-idx3-ubyte.gz"), gzip(b));
        m = error(tmp);
        assertTrue(m.contains("compressed bytes can hold"), m);
    }

    @Test
    void labelProblems() throws IOException {
        writeSet(tmp, "train", 10, false);
        Path f = tmp.resolve("train-labels-idx1-ubyte");
        byte[] good = Files.readAllBytes(f);
        byte[] b = good.clone();
        b[8 + 6] = 12;
        Files.write(f, b);
        String m = error(tmp);
        assertTrue(m.contains("label 12 of sample 6"), m);
        Files.write(f, idx(1, new int[] {9}, new byte[9]));
        m = error(tmp);
        assertTrue(m.contains("10 images") && m.contains("9 labels"), m);
    }
}
