package io.udit.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LatentFolderTest {
    @TempDir Path tmp;

    /** Writes a version-1 .npy file as numpy does (header padded to a multiple of 64 bytes). */
    static void npy(Path file, String descr, long[] shape, ByteBuffer data) throws IOException {
        StringBuilder sh = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) sh.append(i == 0 ? "" : ", ").append(shape[i]);
        sh.append(shape.length == 1 ? ",)" : ")");
        String h = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + sh + ", }";
        int total = 10 + h.length() + 1;
        int pad = (64 - total % 64) % 64;
        h = h + " ".repeat(pad) + "\n";
        ByteBuffer out = ByteBuffer.allocate(10 + h.length() + data.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        out.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) h.length());
        out.put(h.getBytes(StandardCharsets.ISO_8859_1)).put(data);
        Files.createDirectories(file.getParent());
        Files.write(file, out.array());
    }

    static void feature(Path file, long[] shape, float base) throws IOException {
        int n = 1;
        for (long d : shape) n *= (int) d;
        ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) b.putFloat(base + i * 0.001f);
        b.flip();
        npy(file, "<f4", shape, b);
    }

    static void label(Path file, long v) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
        b.flip();
        npy(file, "<i8", new long[] {1}, b);
    }

    /** Samples named 0, 1, 2, 10 with (1, 4, 8, 8) features of base value n and label n % 5. */
    Path layout() throws IOException {
        Path root = tmp.resolve("feats");
        for (int n : new int[] {0, 1, 2, 10}) {
            feature(root.resolve("imagenet256_features/" + n + ".npy"), new long[] {1, 4, 8, 8}, n);
            label(root.resolve("imagenet256_labels/" + n + ".npy"), n % 5);
        }
        return root;
    }

    @Test
    void referenceLayoutAndSortOrder() throws IOException {
        Path root = layout();
        LatentFolder ds = LatentFolder.open(root, 0, false);
        assertEquals(4, ds.size());
        assertEquals(4, ds.channels());
        assertEquals(8, ds.resolution());
        assertEquals(3, ds.numClasses()); // labels 0, 1, 2, 0 -> 3 classes
        assertFalse(ds.isImage());
        float[] x = new float[ds.sampleSize()];
        int[] names = {0, 1, 10, 2}; // sorted(os.listdir()): string order
        for (int i = 0; i < 4; i++) {
            assertEquals(names[i] + ".npy", ds.featureFile(i).getFileName().toString());
            assertEquals(names[i] % 5, ds.read(i, x, new SplittableRandom(i)));
            for (int k = 0; k < x.length; k++) assertEquals(names[i] + k * 0.001f, x[k]);
        }
        // the features folder itself works too, and an explicit class count is used as given
        LatentFolder direct = LatentFolder.open(root.resolve("imagenet256_features"), 1000, false);
        assertEquals(1000, direct.numClasses());
    }

    @Test
    void numpyWrittenFilesFloat16AndScalarLabels() throws IOException {
        Path root = tmp.resolve("r");
        Path fd = Files.createDirectories(root.resolve("features")), ld = Files.createDirectories(root.resolve("labels"));
        copy("f32_1x4x2x2.npy", fd.resolve("a.npy"));
        copy("f16_4x2x2.npy", fd.resolve("b.npy"));
        copy("f32_big_endian_4x2x2.npy", fd.resolve("c.npy"));
        copy("label_int64_1.npy", ld.resolve("a.npy"));
        copy("label_scalar.npy", ld.resolve("b.npy"));
        copy("label_scalar.npy", ld.resolve("c.npy"));
        LatentFolder ds = LatentFolder.open(root, 10, false);
        float[] x = new float[16];
        assertEquals(7, ds.read(0, x, null));
        for (int i = 0; i < 16; i++) assertEquals(i * 0.5f - 3, x[i]); // exact in float16 too
        assertEquals(3, ds.read(1, x, null));
        for (int i = 0; i < 16; i++) assertEquals(i * 0.5f - 3, x[i]);
        assertEquals(3, ds.read(2, x, null));
        for (int i = 0; i < 16; i++) assertEquals(i * 0.5f - 3, x[i]);
    }

    @Test
    void halfPrecisionConversion() {
        assertEquals(1f, NpyArray.halfToFloat((short) 0x3c00));
        assertEquals(-2f, NpyArray.halfToFloat((short) 0xc000));
        assertEquals(65504f, NpyArray.halfToFloat((short) 0x7bff));
        assertEquals(0x1p-24f, NpyArray.halfToFloat((short) 0x0001));
        assertEquals(Float.POSITIVE_INFINITY, NpyArray.halfToFloat((short) 0x7c00));
        assertTrue(Float.isNaN(NpyArray.halfToFloat((short) 0x7e00)));
        assertEquals(-0f, NpyArray.halfToFloat((short) 0x8000));
    }

    private void copy(String resource, Path to) throws IOException {
        try (InputStream in = getClass().getResourceAsStream("npy/" + resource)) {
            assertNotNull(in, resource);
            Files.write(to, in.readAllBytes());
        }
    }

    @Test
    void flipIsOffByDefaultAndOptional() throws IOException {
        Path root = layout();
        LatentFolder plain = LatentFolder.open(root, 5, false);
        LatentFolder flipping = LatentFolder.open(root, 5, true);
        float[] a = new float[plain.sampleSize()], b = new float[plain.sampleSize()];
        int flipped = 0;
        for (int s = 0; s < 40; s++) {
            plain.read(0, a, new SplittableRandom(s));
            assertEquals(0f, a[0]);
            flipping.read(0, b, new SplittableRandom(s));
            if (b[0] != 0f) {
                flipped++;
                for (int y = 0; y < 8; y++)
                    for (int x = 0; x < 8; x++) assertEquals(a[64 + y * 8 + 7 - x], b[64 + y * 8 + x]);
            } else {
                assertArrayEquals(a, b);
            }
        }
        assertTrue(flipped > 5 && flipped < 35, "flipped " + flipped);
    }

    @Test
    void inconsistentFoldersFailAtOpen() throws IOException {
        Path root = layout();
        label(root.resolve("imagenet256_labels/3.npy"), 1);
        DataException e = assertThrows(DataException.class, () -> LatentFolder.open(root, 0, false));
        assertTrue(e.getMessage().contains("4 .npy files") && e.getMessage().contains("5"), e.getMessage());
        Files.delete(root.resolve("imagenet256_labels/10.npy"));
        e = assertThrows(DataException.class, () -> LatentFolder.open(root, 0, false));
        assertTrue(e.getMessage().contains("disagree") && e.getMessage().contains("features/10.npy")
                && e.getMessage().contains("labels/2.npy"), e.getMessage());
        e = assertThrows(DataException.class, () -> LatentFolder.open(tmp, 0, false));
        assertTrue(e.getMessage().contains("not a latent folder"), e.getMessage());
    }

    @Test
    void badFirstShapeFailsAtOpen() throws IOException {
        Path root = tmp.resolve("r");
        feature(root.resolve("x_features/0.npy"), new long[] {2, 4, 8, 8}, 0);
        label(root.resolve("x_labels/0.npy"), 0);
        DataException e = assertThrows(DataException.class, () -> LatentFolder.open(root, 0, false));
        assertTrue(e.getMessage().contains("0.npy") && e.getMessage().contains("(2, 4, 8, 8)"), e.getMessage());
        feature(root.resolve("x_features/0.npy"), new long[] {4, 8, 6}, 0);
        e = assertThrows(DataException.class, () -> LatentFolder.open(root, 0, false));
        assertTrue(e.getMessage().contains("(4, 8, 6)"), e.getMessage());
    }

    @Test
    void everyReadIsValidated() throws IOException {
        Path root = layout();
        Path f1 = root.resolve("imagenet256_features/1.npy"), f2 = root.resolve("imagenet256_features/2.npy");
        feature(f1, new long[] {1, 4, 4, 4}, 0); // other shape
        byte[] good = Files.readAllBytes(f2);
        Files.write(f2, Arrays.copyOf(good, good.length - 9)); // truncated
        label(root.resolve("imagenet256_labels/10.npy"), 7); // out of range for 5 classes
        LatentFolder ds = LatentFolder.open(root, 5, false);
        float[] x = new float[ds.sampleSize()];
        ds.read(0, x, null);
        DataException e = assertThrows(DataException.class, () -> ds.read(1, x, null));
        assertTrue(e.getMessage().contains("1.npy") && e.getMessage().contains("(1, 4, 4, 4)"), e.getMessage());
        e = assertThrows(DataException.class, () -> ds.read(2, x, null)); // "10"
        assertTrue(e.getMessage().contains("10.npy") && e.getMessage().contains("label 7 outside 0..4"), e.getMessage());
        e = assertThrows(DataException.class, () -> ds.read(3, x, null)); // "2"
        assertTrue(e.getMessage().contains("2.npy") && e.getMessage().contains("truncated"), e.getMessage());
        // NaN, wrong dtype, not npy at all
        ByteBuffer nan = ByteBuffer.allocate(4 * 256).order(ByteOrder.LITTLE_ENDIAN);
        nan.putFloat(17 * 4, Float.NaN);
        npy(f1, "<f4", new long[] {1, 4, 8, 8}, nan);
        e = assertThrows(DataException.class, () -> ds.read(1, x, null));
        assertTrue(e.getMessage().contains("non-finite"), e.getMessage());
        npy(f1, "<i4", new long[] {1, 4, 8, 8}, ByteBuffer.allocate(4 * 256));
        e = assertThrows(DataException.class, () -> ds.read(1, x, null));
        assertTrue(e.getMessage().contains("int32"), e.getMessage());
        Files.writeString(f1, "not numpy");
        e = assertThrows(DataException.class, () -> ds.read(1, x, null));
        assertTrue(e.getMessage().contains("1.npy") && e.getMessage().contains("not a .npy"), e.getMessage());
        Files.write(f1, new byte[1 << 20]); // far too large for a latent: not read into memory
        e = assertThrows(DataException.class, () -> ds.read(1, x, null));
        assertTrue(e.getMessage().contains("larger than"), e.getMessage());
    }
}
