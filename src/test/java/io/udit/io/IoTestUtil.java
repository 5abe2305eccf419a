package io.udit.io;

import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.function.Executable;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shared helpers for the io tests: random tensors, exact comparison, hand-made pickles and zips. */
final class IoTestUtil {
    private IoTestUtil() {}

    static final ScalarType[] ALL_TYPES = {ScalarType.Float, ScalarType.Double, ScalarType.Half, ScalarType.BFloat16,
            ScalarType.Long, ScalarType.Int, ScalarType.Short, ScalarType.Char, ScalarType.Byte, ScalarType.Bool};

    static int elementSize(ScalarType t) {
        return DType.of(t).size;
    }

    /** Random bit patterns (bool: 0/1) of the given type and shape. */
    static Tensor random(ScalarType type, long seed, long... shape) {
        long n = 1;
        for (long s : shape) n *= s;
        byte[] b = new byte[(int) (n * elementSize(type))];
        new Random(seed).nextBytes(b);
        if (type == ScalarType.Bool) for (int i = 0; i < b.length; i++) b[i] &= 1;
        return Tensors.fromBytes(b, type, shape);
    }

    static void assertTensorEquals(Tensor expected, Tensor actual, String what) {
        assertSame(expected.scalar_type().intern(), actual.scalar_type().intern(), what + " dtype");
        assertArrayEquals(Tensors.shape(expected), Tensors.shape(actual), what + " shape");
        assertArrayEquals(Tensors.toBytes(expected), Tensors.toBytes(actual), what + " bytes");
    }

    static void assertStateDictEquals(Map<String, Tensor> expected, Map<String, Tensor> actual) {
        assertArrayEquals(expected.keySet().toArray(), actual.keySet().toArray(), "keys and order");
        for (String k : expected.keySet()) assertTensorEquals(expected.get(k), actual.get(k), k);
    }

    /** Asserts the call fails with the exception type and a message containing every fragment. */
    static <T extends Throwable> T assertFails(Class<T> type, Executable call, String... fragments) {
        T e = assertThrows(type, call);
        String m = String.valueOf(e.getMessage());
        for (String f : fragments) assertTrue(m.contains(f), "message '" + m + "' lacks '" + f + "'");
        return e;
    }

    static Path write(Path file, byte[] data) throws IOException {
        Files.write(file, data);
        return file;
    }

    /** A torch-style zip: {@code archive/data.pkl}, storages {@code archive/data/<key>}, version. */
    static Path torchZip(Path file, byte[] pkl, Map<String, byte[]> storages) throws IOException {
        return zip(file, Map.of(), pkl, storages);
    }

    static Path zip(Path file, Map<String, byte[]> extra, byte[] pkl, Map<String, byte[]> storages) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ZipWriter z = new ZipWriter(ch);
            if (pkl != null) z.add("archive/data.pkl", pkl, true);
            for (Map.Entry<String, byte[]> e : storages.entrySet()) z.add("archive/data/" + e.getKey(), e.getValue(), true);
            for (Map.Entry<String, byte[]> e : extra.entrySet()) z.add(e.getKey(), e.getValue(), false);
            if (pkl != null) z.add("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII), false);
            z.finish();
        }
        return file;
    }

    /** Little-endian float32 bytes. */
    static byte[] floats(float... v) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * v.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return b.array();
    }
}
