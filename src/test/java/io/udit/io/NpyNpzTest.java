package io.udit.io;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static io.udit.io.IoTestUtil.assertFails;
import static io.udit.io.IoTestUtil.assertStateDictEquals;
import static io.udit.io.IoTestUtil.assertTensorEquals;
import static io.udit.io.IoTestUtil.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class NpyNpzTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void init() {
        Engine.init();
    }

    private static final ScalarType[] NUMPY_TYPES = {ScalarType.Float, ScalarType.Double, ScalarType.Half, ScalarType.Long,
            ScalarType.Int, ScalarType.Short, ScalarType.Char, ScalarType.Byte, ScalarType.Bool};

    @Test
    void npyRoundTripsEveryDtype() throws Exception {
        int i = 0;
        for (ScalarType t : NUMPY_TYPES) {
            for (long[] shape : new long[][] {{3, 5}, {}, {0}, {2, 1, 3, 2}, {7}}) {
                Tensor x = random(t, i++, shape);
                Path f = dir.resolve("a" + i + ".npy");
                Npy.write(f, x);
                assertTensorEquals(x, Npy.read(f), t + Arrays.toString(shape));
                assertEquals(0, Files.size(f) - x.nbytes() & 63, "data 64-byte aligned");
                byte[] bytes = Files.readAllBytes(f);
                assertTensorEquals(x, Npy.read(bytes), "from bytes");
                assertTensorEquals(x, Npy.read(new ByteArrayInputStream(bytes)), "from stream");
                assertArrayEquals(bytes, Npy.toBytes(x));
            }
        }
        assertFails(IllegalArgumentException.class, () -> Npy.write(dir.resolve("bf.npy"), random(ScalarType.BFloat16, 1, 2)),
                "numpy has no bfloat16");
    }

    /** .npy bytes with a literal header dict (version 1.0 or 2.0/3.0). */
    static byte[] npy(int major, String dict, byte[] data) {
        String h = dict;
        int pre = major == 1 ? 10 : 12;
        while ((pre + h.length() + 1) % 64 != 0) h += " ";
        h += "\n";
        byte[] hb = h.getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(pre + hb.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) major).put((byte) 0);
        if (major == 1) b.putShort((short) hb.length);
        else b.putInt(hb.length);
        return b.put(hb).put(data).array();
    }

    @Test
    void readsFortranOrderBigEndianAndNewerVersions() throws Exception {
        // 2x3 array [[0,1,2],[3,4,5]] stored column-major: 0 3 1 4 2 5
        byte[] colMajor = IoTestUtil.floats(0, 3, 1, 4, 2, 5);
        Tensor f = Npy.read(npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", colMajor));
        assertArrayEquals(new long[] {2, 3}, Tensors.shape(f));
        assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, Tensors.toFloats(f));
        // 3-D fortran order: element (i,j,k) at i + 2j + 6k
        float[] col3 = new float[24];
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 4; k++) col3[i + 2 * j + 6 * k] = i * 12 + j * 4 + k;
        Tensor f3 = Npy.read(npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3, 4), }", IoTestUtil.floats(col3)));
        float[] c = new float[24];
        for (int i = 0; i < 24; i++) c[i] = i;
        assertArrayEquals(c, Tensors.toFloats(f3));
        // big-endian int64 and float64 are converted
        ByteBuffer be = ByteBuffer.allocate(24).order(ByteOrder.BIG_ENDIAN).putLong(1).putLong(-2).putLong(1L << 40);
        Tensor l = Npy.read(npy(1, "{'descr': '>i8', 'fortran_order': False, 'shape': (3,), }", be.array()));
        assertArrayEquals(new long[] {1, -2, 1L << 40}, Tensors.toLongs(l));
        ByteBuffer bd = ByteBuffer.allocate(16).order(ByteOrder.BIG_ENDIAN).putDouble(1.5).putDouble(-3.25);
        Tensor d = Npy.read(npy(2, "{\"descr\": \">f8\", \"fortran_order\": False, \"shape\": (2,)}", bd.array()));
        assertSame(ScalarType.Double, d.scalar_type().intern());
        assertArrayEquals(new double[] {1.5, -3.25}, Tensors.toDoubles(d));
        Tensor v3 = Npy.read(npy(3, "{'descr': '|u1', 'fortran_order': False, 'shape': (2L, 2L), }", new byte[] {1, 2, 3, (byte) 255}));
        assertArrayEquals(new long[] {1, 2, 3, 255}, Tensors.toLongs(v3));
        Tensor one = Npy.read(npy(1, "{'descr': '<b1', 'fortran_order': False, 'shape': (), }", new byte[] {1}));
        assertEquals(0, one.dim());
    }

    @Test
    void npyRejectsBadFiles() throws Exception {
        byte[] d8 = IoTestUtil.floats(1, 2);
        Object[][] cases = {
                {npy(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", d8), "unsupported npy dtype '<c8'"},
                {npy(1, "{'descr': '<u2', 'fortran_order': False, 'shape': (4,), }", d8), "unsupported npy dtype '<u2'"},
                {npy(1, "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", d8), "unsupported npy dtype '|O'"},
                {npy(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", d8), "structured"},
                {npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", d8), "negative dimension"},
                {npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", d8), "out of range"},
                {npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", d8), "overflows 64 bits"},
                {npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", d8), "truncated"},
                {npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", d8), "unexpected bytes"},
                {npy(1, "{'descr': '|f4', 'fortran_order': False, 'shape': (2,), }", d8), "lacks a byte order"},
                {npy(1, "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", d8), "fortran_order must be True or False"},
                {npy(1, "{'descr': '<f4', 'shape': (2,), }", d8), "required"},
                {npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), '__class__': 1}", d8), "unexpected key"},
                {npy(1, "__import__('os').system('ls')", d8), "malformed npy header"},
                {npy(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (8,), }", d8), "bytes other than 0 and 1"},
                {npy(7, "{}", d8), "unsupported npy format version 7.0"},
                {Arrays.copyOf(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", d8), 30), "truncated"},
                {"just text\n".getBytes(StandardCharsets.US_ASCII), "not an .npy array"},
        };
        int i = 0;
        for (Object[] c : cases) {
            Path f = IoTestUtil.write(dir.resolve("bad" + i++ + ".npy"), (byte[]) c[0]);
            assertFails(CheckpointFormatException.class, () -> Npy.read(f), (String) c[1], f.toString());
        }
        byte[] huge = npy(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }", d8);
        Path h = IoTestUtil.write(dir.resolve("huge.npy"), huge);
        assertFails(CheckpointFormatException.class, () -> Npy.read(h), "truncated");
        assertFails(CheckpointFormatException.class, () -> Npy.read(new ByteArrayInputStream(huge)), "more than the memory budget");
    }

    @Test
    void npzRoundTripAndDeflatedArchives() throws Exception {
        LinkedHashMap<String, Tensor> m = new LinkedHashMap<>();
        int i = 0;
        for (ScalarType t : NUMPY_TYPES) m.put("arr_" + t, random(t, i++, 4, 3));
        m.put("nested/name", random(ScalarType.Float, 9, 2));
        m.put("scalar", random(ScalarType.Double, 10));
        Path f = dir.resolve("a.npz");
        Npz.write(f, m);
        assertStateDictEquals(m, Npz.read(f));
        Npz.write(f, m, true); // zip64 records
        assertStateDictEquals(m, Npz.read(f));
        // savez_compressed-style archive: deflated entries
        Path z = dir.resolve("z.npz");
        try (ZipOutputStream zo = new ZipOutputStream(Files.newOutputStream(z))) {
            for (Map.Entry<String, Tensor> e : m.entrySet()) {
                zo.putNextEntry(new ZipEntry(e.getKey() + ".npy"));
                Npy.write(zo, e.getValue());
                zo.closeEntry();
            }
        }
        assertStateDictEquals(m, Npz.read(z));
        assertStateDictEquals(m, WeightFiles.readStateDict(z, null));
    }

    /** An archive with one deflated entry, optionally lying about its uncompressed size in the central directory. */
    private Path deflated(String name, String entry, byte[] content, long fakeSize) throws Exception {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (ZipOutputStream zo = new ZipOutputStream(bo)) {
            zo.putNextEntry(new ZipEntry(entry));
            zo.write(content);
            zo.closeEntry();
        }
        byte[] b = bo.toByteArray();
        if (fakeSize >= 0) {
            ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            for (int p = 0; p < b.length - 4; p++) {
                if (bb.getInt(p) == 0x02014b50) bb.putInt(p + 24, (int) fakeSize); // central header: uncompressed size
                if (bb.getInt(p) == 0x08074b50) bb.putInt(p + 12, (int) fakeSize); // data descriptor
            }
        }
        return IoTestUtil.write(dir.resolve(name), b);
    }

    @Test
    void npzRejectsZipBombsAndTraversal() throws Exception {
        byte[] small = Npy.toBytes(random(ScalarType.Float, 1, 10));
        // 64 MB of zeros behind a header declaring 10 floats, central directory telling the truth: size mismatch
        byte[] bomb = Arrays.copyOf(small, 64 << 20);
        Path a = deflated("bomb1.npz", "x.npy", bomb, -1);
        assertFails(CheckpointFormatException.class, () -> Npz.read(a), "bomb1.npz", "declares 40 bytes of data but the zip entry is");
        // same bomb, central directory lying that the entry is small: inflation stops after the declared bytes
        Path b = deflated("bomb2.npz", "x.npy", bomb, small.length);
        assertFails(CheckpointFormatException.class, () -> Npz.read(b), "inflates to more than");
        // header declaring a huge array inside a tiny entry
        byte[] hugeHeader = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000,), }", new byte[0]);
        Path c = deflated("bomb3.npz", "x.npy", hugeHeader, -1);
        assertFails(CheckpointFormatException.class, () -> Npz.read(c), "declares 400000000000 bytes");
        // central directory claiming an impossible compression ratio
        Path d = deflated("bomb4.npz", "x.npy", small, 1L << 31);
        assertFails(CheckpointFormatException.class, () -> Npz.read(d), "zip bomb");
        // truncated data inside a deflated entry
        Path e = deflated("short.npz", "x.npy", Arrays.copyOf(small, small.length - 4), -1);
        assertFails(CheckpointFormatException.class, () -> Npz.read(e), "declares 40 bytes of data but the zip entry is 164");
        // names escaping the archive, and entries that are not arrays
        Path t = deflated("trav.npz", "../../x.npy", small, -1);
        assertFails(CheckpointFormatException.class, () -> Npz.read(t), "path traversal");
        Path n = deflated("txt.npz", "readme.txt", small, -1);
        assertFails(CheckpointFormatException.class, () -> Npz.read(n), "is not an .npy array");
        // a truncated npz file
        Path full = dir.resolve("full.npz");
        Npz.write(full, Map.of("w", random(ScalarType.Float, 1, 50)));
        byte[] all = Files.readAllBytes(full);
        Path cut = IoTestUtil.write(dir.resolve("cut.npz"), Arrays.copyOf(all, all.length - 10));
        assertFails(CheckpointFormatException.class, () -> Npz.read(cut), "cut.npz", "zip");
        assertFails(IllegalArgumentException.class, () -> Npz.write(dir.resolve("k.npz"), Map.of("../x", random(ScalarType.Float, 1, 1))),
                "not a safe entry name");
        // sanity: the CRC of our stored entries is right (java.util.zip verifies it when reading through ZipInputStream)
        try (var zin = new java.util.zip.ZipInputStream(Files.newInputStream(full))) {
            ZipEntry ze = zin.getNextEntry();
            byte[] content = zin.readAllBytes();
            CRC32 crc = new CRC32();
            crc.update(content);
            assertEquals(ze.getName(), "w.npy");
            assertEquals(Npy.toBytes(Npz.read(full).get("w")).length, content.length);
        }
    }
}
