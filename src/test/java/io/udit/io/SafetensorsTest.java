package io.udit.io;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static io.udit.io.IoTestUtil.assertFails;
import static io.udit.io.IoTestUtil.assertStateDictEquals;
import static io.udit.io.IoTestUtil.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void init() {
        Engine.init();
    }

    @Test
    void roundTripsEveryDtypeWithMetadata() throws Exception {
        LinkedHashMap<String, Tensor> sd = new LinkedHashMap<>();
        int i = 0;
        for (ScalarType t : IoTestUtil.ALL_TYPES) {
            sd.put("layer." + t + ".w", random(t, i++, 7, 3));
            sd.put("layer." + t + ".scalar", random(t, i++));
            sd.put("layer." + t + ".empty", random(t, i++, 4, 0));
        }
        Map<String, String> meta = Map.of("format", "pt", "quote\"and\\slash", "ünïcode\n✓");
        Path f = dir.resolve("w.safetensors");
        Safetensors.write(f, sd, meta);
        assertStateDictEquals(sd, Safetensors.read(f));
        assertEquals(meta, Safetensors.metadata(f));
        // header is 8-byte aligned JSON padded with spaces
        byte[] b = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8);
        assertEquals('{', b[8]);
        Safetensors.write(f, sd, null);
        assertTrue(Safetensors.metadata(f).isEmpty());
        assertEquals(sd.size(), Safetensors.describe(f).size());
    }

    /** A safetensors file from a literal header and data. */
    private Path st(String name, String header, byte[] data) throws Exception {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        return IoTestUtil.write(dir.resolve(name), b.array());
    }

    @Test
    void readsHandWrittenFileInHeaderOrder() throws Exception {
        byte[] data = IoTestUtil.floats(1, 2, 3, 4, 5);
        Path f = st("ok.safetensors", "{\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[8,20]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[0,8]},\"__metadata__\":{\"k\":\"v\"}}   ", data);
        LinkedHashMap<String, Tensor> sd = Safetensors.read(f);
        assertEquals(Arrays.asList("b", "a"), Arrays.asList(sd.keySet().toArray()));
        assertArrayEquals(new float[] {3, 4, 5}, Tensors.toFloats(sd.get("b")));
        assertArrayEquals(new long[] {2, 1}, Tensors.shape(sd.get("a")));
        assertEquals(Map.of("k", "v"), Safetensors.metadata(f));
    }

    @Test
    void rejectsHostileAndBrokenFiles() throws Exception {
        byte[] d8 = IoTestUtil.floats(1, 2);
        String ok = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        Object[][] cases = {
                {ok.replace("[2]", "[-2]"), d8, "negative dimension"},
                {ok.replace("[2]", "[3]"), d8, "span 8 bytes"},
                {ok.replace("F32", "F8_E4M3"), d8, "unsupported dtype 'F8_E4M3'"},
                {ok.replace("F32", "U16"), d8, "unsupported dtype 'U16'"},
                {ok.replace("[0,8]", "[0,4]"), d8, "span 4 bytes"},
                {ok, new byte[12], "trailing bytes"},
                {ok, new byte[4], "truncated"},
                {ok.replace("[0,8]", "[8,0]"), d8, "invalid data_offsets"},
                {ok.replace("[2]", "[4611686018427387904,4]"), d8, "overflows 64 bits"},
                {ok.replace("[2]", "[2.5]"), d8, "non-integer"},
                {ok.replace("}}", "},}"), d8, "not valid JSON"},
                {ok.replace("\"shape\"", "\"extra\":1,\"shape\""), d8, "unknown header field 'extra'"},
                {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                        d8, "duplicate key \"a\""},
                {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                        d8, "overlap"},
                {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", d8, "hole"},
                {"{\"__metadata__\":{\"k\":1}," + ok.substring(1), d8, "not a string"},
                {"[1,2]", d8, "header does not start with '{'"},
                {"{\"a\":[1,[2,[3,[4,[5,[6,[7,[8,[9]]]]]]]]]}", d8, "nested deeper"},
                {ok.replace("\"a\"", "\"a\u0001\""), d8, "unescaped control character"},
        };
        int i = 0;
        for (Object[] c : cases) {
            Path f = st("bad" + i++ + ".safetensors", (String) c[0], (byte[]) c[1]);
            assertFails(CheckpointFormatException.class, () -> Safetensors.read(f), (String) c[2], f.getFileName().toString());
        }
        // a header claiming 100 GB: refused before any allocation
        ByteBuffer huge = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN).putLong(100L << 30).put((byte) '{');
        Path h = IoTestUtil.write(dir.resolve("huge.safetensors"), huge.array());
        assertFails(CheckpointFormatException.class, () -> Safetensors.read(h), "header claims 107374182400 bytes",
                "has only 56");
        ByteBuffer neg = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).put((byte) '{');
        Path n = IoTestUtil.write(dir.resolve("neg.safetensors"), neg.array());
        assertFails(CheckpointFormatException.class, () -> Safetensors.read(n), "header claims 18446744073709551615");
        Path tiny = IoTestUtil.write(dir.resolve("tiny.safetensors"), new byte[] {1, 2, 3});
        assertFails(CheckpointFormatException.class, () -> Safetensors.read(tiny), "only 3 bytes");
        // a real file cut short
        LinkedHashMap<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("w", random(ScalarType.Float, 1, 100));
        Path f = dir.resolve("full.safetensors");
        Safetensors.write(f, sd, null);
        byte[] all = Files.readAllBytes(f);
        for (int cut : new int[] {all.length - 1, all.length - 400, 40, 8}) {
            Path t = IoTestUtil.write(dir.resolve("cut" + cut + ".safetensors"), Arrays.copyOf(all, cut));
            assertFails(CheckpointFormatException.class, () -> Safetensors.read(t), "cut" + cut);
        }
        // invalid bool bytes
        Path b = st("bool.safetensors", "{\"m\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[0,2]}}", new byte[] {0, 7});
        assertFails(CheckpointFormatException.class, () -> Safetensors.read(b), "bytes other than 0 and 1");
    }

    @Test
    void mappedWindowsCopyTensorsSpanningManyWindows() throws Exception {
        LinkedHashMap<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("odd", random(ScalarType.Char, 1, 12345));
        sd.put("big", random(ScalarType.Double, 2, 300, 517)); // ~1.2 MB across ~19 windows of 64 KiB
        sd.put("tail", random(ScalarType.Half, 3, 3));
        Path f = dir.resolve("win.safetensors");
        Safetensors.write(f, sd, null);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f)) {
            Safetensors.Header h = Safetensors.header(ch, ch.size(), f);
            NativeIO.MappedWindow w = new NativeIO.MappedWindow(ch, ch.size(), 1 << 16);
            for (Safetensors.Info i : h.tensors()) {
                Tensor t = Tensors.empty(DType.fromSafetensors(i.dtype().safetensors).type, i.shape());
                w.copy(h.dataStart() + i.begin(), t, f, i.name());
                IoTestUtil.assertTensorEquals(sd.get(i.name()), t, i.name());
            }
        }
        Path empty = st("empty.safetensors", "{}", new byte[0]);
        assertTrue(Safetensors.read(empty).isEmpty());
    }

    @Test
    void writerValidatesNames() throws Exception {
        LinkedHashMap<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("__metadata__", random(ScalarType.Float, 1, 2));
        assertFails(IllegalArgumentException.class, () -> Safetensors.write(dir.resolve("x.safetensors"), sd, null),
                "__metadata__");
        assertTrue(Files.notExists(dir.resolve("x.safetensors")));
    }
}
