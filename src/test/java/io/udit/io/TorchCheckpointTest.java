package io.udit.io;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.testing.Pk;
import io.udit.testing.Fixture;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.udit.io.IoTestUtil.assertFails;
import static io.udit.io.IoTestUtil.assertStateDictEquals;
import static io.udit.io.IoTestUtil.assertTensorEquals;
import static io.udit.io.IoTestUtil.floats;
import static io.udit.io.IoTestUtil.random;
import static io.udit.io.IoTestUtil.torchZip;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TorchCheckpointTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void init() {
        Engine.init();
    }

    @Test
    void readsFixtureStateDictExactly() throws Exception {
        Fixture fx = Fixture.tiny();
        LinkedHashMap<String, Tensor> sd = TorchCheckpoint.readStateDict(fx.checkpoint(), null);
        List<Fixture.Entry> params = fx.group("param");
        assertEquals(307, params.size(), "fixture param count");
        List<String> expectedKeys = new ArrayList<>();
        for (Fixture.Entry e : params) expectedKeys.add(e.name().substring("param/".length()));
        assertEquals(expectedKeys, new ArrayList<>(sd.keySet()), "key order");
        for (Fixture.Entry e : params) {
            String key = e.name().substring("param/".length());
            Tensor actual = sd.get(key);
            assertArrayEquals(e.shape(), Tensors.shape(actual), key + " shape");
            assertTrue(actual.is_contiguous(), key + " contiguous");
            assertTensorEquals(fx.tensor(e.name()), actual, key);
        }
        // the raw tree read agrees, and the same tensors re-written by our writer read back identically
        Object tree = TorchCheckpoint.read(fx.checkpoint());
        assertInstanceOf(Map.class, tree);
        Path out = dir.resolve("resaved.pt");
        TorchCheckpointWriter.write(out, sd);
        assertStateDictEquals(sd, TorchCheckpoint.readStateDict(out, null));
    }

    @Test
    void roundTripsEveryDtypeAndShape() throws Exception {
        LinkedHashMap<String, Tensor> sd = new LinkedHashMap<>();
        int i = 0;
        for (ScalarType t : IoTestUtil.ALL_TYPES) {
            sd.put("w." + t + ".2d", random(t, i++, 3, 5));
            sd.put("w." + t + ".scalar", random(t, i++));
            sd.put("w." + t + ".empty", random(t, i++, 0, 4));
            sd.put("w." + t + ".5d", random(t, i++, 2, 1, 3, 1, 2));
        }
        // non-contiguous input is written in C order
        Tensor base = random(ScalarType.Float, 99, 4, 6);
        sd.put("transposed", base.t());
        Path f = dir.resolve("all.pt");
        TorchCheckpointWriter.write(f, sd);
        LinkedHashMap<String, Tensor> back = TorchCheckpoint.readStateDict(f, null);
        assertStateDictEquals(sd, back);
        assertArrayEquals(Tensors.toFloats(base.t().contiguous()), Tensors.toFloats(back.get("transposed")));
        assertDataAligned(f);
    }

    /** Every stored entry's data starts at a multiple of 64 bytes, as torch writes it. */
    private static void assertDataAligned(Path f) throws Exception {
        byte[] z = Files.readAllBytes(f);
        ByteBuffer b = ByteBuffer.wrap(z).order(ByteOrder.LITTLE_ENDIAN);
        int pos = 0;
        int n = 0;
        while (b.getInt(pos) == 0x04034b50) {
            int nameLen = b.getShort(pos + 26) & 0xFFFF;
            int extraLen = b.getShort(pos + 28) & 0xFFFF;
            long size = b.getInt(pos + 22) & 0xFFFFFFFFL;
            int data = pos + 30 + nameLen + extraLen;
            assertEquals(0, data % 64, "entry " + new String(z, pos + 30, nameLen, StandardCharsets.UTF_8) + " data offset");
            pos = (int) (data + size);
            n++;
        }
        assertTrue(n >= 3);
    }

    @Test
    void trainingCheckpointRoundTripAndKeySelection() throws Exception {
        LinkedHashMap<String, Tensor> model = new LinkedHashMap<>();
        model.put("blocks.0.weight", random(ScalarType.Float, 1, 4, 4));
        model.put("blocks.0.bias", random(ScalarType.Float, 2, 4));
        LinkedHashMap<String, Tensor> ema = new LinkedHashMap<>();
        ema.put("blocks.0.weight", random(ScalarType.Float, 3, 4, 4));
        ema.put("blocks.0.bias", random(ScalarType.Float, 4, 4));

        Map<Object, Object> state0 = new LinkedHashMap<>();
        state0.put("step", Tensors.floats(new float[] {12f}));
        state0.put("exp_avg", random(ScalarType.Float, 5, 4, 4));
        state0.put("exp_avg_sq", random(ScalarType.Float, 6, 4, 4));
        Map<Object, Object> state = new LinkedHashMap<>();
        state.put(0L, state0);
        Map<Object, Object> group = new LinkedHashMap<>();
        group.put("lr", 1e-4);
        group.put("betas", List.of(0.9, 0.999));
        group.put("weight_decay", 0.0);
        group.put("amsgrad", false);
        group.put("foreach", null);
        group.put("params", List.of(0L, 1L));
        Map<Object, Object> opt = new LinkedHashMap<>();
        opt.put("state", state);
        opt.put("param_groups", List.of(group));
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("model", "U-DiT-B");
        args.put("image_size", 256);
        args.put("global_seed", -7L);
        args.put("big", 1L << 40);
        args.put("ratio", 0.25f);
        args.put("tag", "ünïcode ✓");
        args.put("raw", new byte[] {0, 1, (byte) 0xFF});
        args.put("empty_bytes", new byte[0]);
        args.put("tuple", new Object[] {1L, "a", null});
        Map<String, Object> ckpt = new LinkedHashMap<>();
        ckpt.put("model", model);
        ckpt.put("ema", ema);
        ckpt.put("opt", opt);
        ckpt.put("args", args);

        Path f = dir.resolve("0010000.pt");
        TorchCheckpointWriter.write(f, ckpt);

        assertStateDictEquals(ema, TorchCheckpoint.readStateDict(f, null));
        assertStateDictEquals(ema, TorchCheckpoint.readStateDict(f, "ema"));
        assertStateDictEquals(model, TorchCheckpoint.readStateDict(f, "model"));
        assertStateDictEquals(ema, WeightFiles.readStateDict(f, null));

        Map<?, ?> tree = (Map<?, ?>) TorchCheckpoint.read(f);
        assertEquals(List.of("model", "ema", "opt", "args"), new ArrayList<>(tree.keySet()));
        Map<?, ?> o = (Map<?, ?>) tree.get("opt");
        Map<?, ?> s0 = (Map<?, ?>) ((Map<?, ?>) o.get("state")).get(0L);
        assertTensorEquals((Tensor) state0.get("step"), (Tensor) s0.get("step"), "step");
        assertTensorEquals((Tensor) state0.get("exp_avg"), (Tensor) s0.get("exp_avg"), "exp_avg");
        Map<?, ?> g = (Map<?, ?>) ((List<?>) o.get("param_groups")).get(0);
        assertEquals(1e-4, g.get("lr"));
        assertEquals(List.of(0.9, 0.999), g.get("betas"));
        assertEquals(Boolean.FALSE, g.get("amsgrad"));
        assertTrue(g.containsKey("foreach"));
        assertNull(g.get("foreach"));
        assertEquals(List.of(0L, 1L), g.get("params"));
        Map<?, ?> a = (Map<?, ?>) tree.get("args");
        assertEquals("U-DiT-B", a.get("model"));
        assertEquals(256L, a.get("image_size"));
        assertEquals(-7L, a.get("global_seed"));
        assertEquals(1L << 40, a.get("big"));
        assertEquals(0.25, a.get("ratio"));
        assertEquals("ünïcode ✓", a.get("tag"));
        assertArrayEquals(new byte[] {0, 1, (byte) 0xFF}, (byte[]) a.get("raw"));
        assertArrayEquals(new byte[0], (byte[]) a.get("empty_bytes"));
        assertEquals(Arrays.asList(1L, "a", null), a.get("tuple"));

        assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.readStateDict(f, "nope"),
                "no 'nope'", "available keys: [model, ema, opt, args]");
        assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.readStateDict(f, "opt"),
                "'opt' is not a state dict");
        // without ema, null picks model
        ckpt.remove("ema");
        TorchCheckpointWriter.write(f, ckpt);
        assertStateDictEquals(model, TorchCheckpoint.readStateDict(f, null));
        ckpt.remove("model");
        TorchCheckpointWriter.write(f, ckpt);
        assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.readStateDict(f, null),
                "no state dict found", "available keys: [opt, args]");
    }

    @Test
    void integersOfEverySize() throws Exception {
        List<Object> values = new ArrayList<>();
        long[] xs = {0, 1, 255, 256, 65535, 65536, -1, -128, -129, Integer.MAX_VALUE, Integer.MIN_VALUE,
                Integer.MAX_VALUE + 1L, Integer.MIN_VALUE - 1L, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 32, -(1L << 40)};
        for (long x : xs) values.add(x);
        values.add(Double.NaN);
        values.add(Double.NEGATIVE_INFINITY);
        values.add(-0.0);
        Path f = dir.resolve("ints.pt");
        TorchCheckpointWriter.write(f, values);
        List<?> back = (List<?>) TorchCheckpoint.read(f);
        for (int i = 0; i < xs.length; i++) assertEquals(xs[i], back.get(i), "value " + xs[i]);
        assertTrue(((Double) back.get(xs.length)).isNaN());
        assertEquals(Double.NEGATIVE_INFINITY, back.get(xs.length + 1));
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits((Double) back.get(xs.length + 2)));
    }

    @Test
    void tensorsSharingOneStorage() throws Exception {
        // storage '0' = [0..11]; a = whole [3,4]; b = row 1 (offset 4); c = a transposed; d = column 2 (stride 4)
        float[] v = new float[12];
        for (int i = 0; i < 12; i++) v[i] = i;
        Pk p = new Pk().op('}').op('(');
        p.str("a").tensor("FloatStorage", "0", 12, 0, new long[] {3, 4}, new long[] {4, 1});
        p.str("b").tensor("FloatStorage", "0", 12, 4, new long[] {4}, new long[] {1});
        p.str("c").tensor("FloatStorage", "0", 12, 0, new long[] {4, 3}, new long[] {1, 4});
        p.str("d").tensor("FloatStorage", "0", 12, 2, new long[] {3}, new long[] {4});
        p.str("e").tensor("FloatStorage", "0", 12, 5, new long[] {}, new long[] {});
        p.str("f").tensor("FloatStorage", "0", 12, 12, new long[] {0}, new long[] {1});
        p.op('u');
        Path f = torchZip(dir.resolve("shared.pt"), p.stop(), Map.of("0", floats(v)));
        LinkedHashMap<String, Tensor> sd = TorchCheckpoint.readStateDict(f, null);
        assertArrayEquals(v, Tensors.toFloats(sd.get("a")));
        assertArrayEquals(new float[] {4, 5, 6, 7}, Tensors.toFloats(sd.get("b")));
        assertArrayEquals(new float[] {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, Tensors.toFloats(sd.get("c")));
        assertArrayEquals(new long[] {4, 3}, Tensors.shape(sd.get("c")));
        assertArrayEquals(new float[] {2, 6, 10}, Tensors.toFloats(sd.get("d")));
        assertEquals(0, sd.get("e").dim());
        assertArrayEquals(new float[] {5}, Tensors.toFloats(sd.get("e")));
        assertArrayEquals(new long[] {0}, Tensors.shape(sd.get("f")));
        for (Tensor t : sd.values()) assertTrue(t.is_contiguous());
        // writing one of the copies does not touch the others
        sd.get("b").fill_(new org.bytedeco.pytorch.Scalar(-1.0));
        assertArrayEquals(v, Tensors.toFloats(sd.get("a")));
    }

    @Test
    void namespaceParametersOrderedDictMetadataAndNumpyScalars() throws Exception {
        // what torch.save writes for nn.Parameter, argparse.Namespace, an OrderedDict carrying _metadata, numpy floats
        Pk p = new Pk().op('}').op('(');
        p.str("param");
        p.global("torch._utils", "_rebuild_parameter").op('(');
        p.tensor("HalfStorage", "0", 2, 0, new long[] {2}, new long[] {1});
        p.op(0x88).global("collections", "OrderedDict").op(')').op('R').op('t').op('R');
        p.str("args").global("argparse", "Namespace").op(')').op(0x81).op('}').op('(')
                .str("lr").op('G').op(0x3f, 0x1a, 0x36, 0xe2, 0xeb, 0x1c, 0x43, 0x2d) // 1e-4 big-endian
                .str("depth").op('K', 12).str("ok").op(0x88).op('u').op('b');
        p.str("sd").global("collections", "OrderedDict").op(')').op('R').op('(')
                .str("w").tensor("FloatStorage", "1", 1, 0, new long[] {1}, new long[] {1}).op('u')
                .op('}').str("_metadata").op('}').op('s').op('b');
        p.str("np").global("numpy.core.multiarray", "scalar")
                .global("numpy", "dtype").shortStr("f8").op(0x89, 0x88).op(0x87).op('R')
                .op('(').op('K', 3).shortStr("<").op('N', 'N', 'N').integer(-1).integer(-1).op('K', 0).op('t').op('b')
                .global("_codecs", "encode").str("\u0000\u0000\u0000\u0000\u0000\u0000\u0004@").str("latin1").op(0x86).op('R')
                .op(0x86).op('R');
        p.str("dtype").global("torch", "bfloat16");
        p.str("dev").global("torch", "device").shortStr("cuda").op('K', 1).op(0x86).op('R');
        p.op('u');
        ByteBuffer half = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0x3c00).putShort((short) 0xc000);
        Path f = torchZip(dir.resolve("misc.pt"), p.stop(), Map.of("0", half.array(), "1", floats(3f)));
        Map<?, ?> tree = (Map<?, ?>) TorchCheckpoint.read(f);
        Tensor param = (Tensor) tree.get("param");
        assertSame(ScalarType.Half, param.scalar_type().intern());
        assertArrayEquals(new float[] {1f, -2f}, Tensors.toFloats(param));
        Map<?, ?> args = (Map<?, ?>) tree.get("args");
        assertEquals(1e-4, args.get("lr"));
        assertEquals(12L, args.get("depth"));
        assertEquals(true, args.get("ok"));
        assertTrue(TorchCheckpoint.isStateDict(tree.get("sd")));
        assertEquals(2.5, tree.get("np"));
        assertEquals("torch.bfloat16", tree.get("dtype"));
        assertEquals("cuda:1", tree.get("dev"));
    }

    // ---------------------------------------------------------------- hostile and broken files

    private Path pickleFile(String name, byte[] pkl) throws Exception {
        return torchZip(dir.resolve(name), pkl, Map.of());
    }

    @Test
    void refusesForbiddenGlobals() throws Exception {
        String[][] globals = {{"os", "system"}, {"builtins", "eval"}, {"posix", "system"}, {"subprocess", "Popen"},
                {"builtins", "getattr"}, {"__builtin__", "exec"}, {"torch", "load"}, {"numpy", "load"},
                {"collections", "namedtuple"}, {"torch._utils", "_rebuild_from_type_v2"}};
        for (String[] g : globals) {
            String q = g[0] + "." + g[1];
            // GLOBAL opcode, then a REDUCE that would call it
            Path a = pickleFile("g.pt", new Pk().global(g[0], g[1]).str("touch /tmp/pwned").op(0x85).op('R').stop());
            assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.read(a),
                    "refusing to load: pickle references forbidden global '" + q + "'", a.toString());
            // STACK_GLOBAL (protocol 4), nested inside a dict value
            Path b = pickleFile("sg.pt", new Pk().op('}').str("k").shortStr(g[0]).shortStr(g[1]).op(0x93)
                    .str("id").op(0x85).op('R').op('s').stop());
            assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.readStateDict(b, null),
                    "forbidden global '" + q + "'");
        }
        // a forbidden global hidden behind memo and a persistent id never gets as far as a storage
        Path c = pickleFile("memo.pt", new Pk().global("posix", "system").op('q', 0).op('0').op('h', 0).str("x").op(0x85)
                .op('R').stop());
        assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.read(c), "forbidden global 'posix.system'");
        // a whitelisted class that is not callable, and object-building opcodes of protocol 0/1
        Path d = pickleFile("call.pt", new Pk().global("torch", "FloatStorage").op(')').op('R').stop());
        assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.read(d), "cannot be called");
        byte[] inst = "(ios\nsystem\nS'ls'\n.".getBytes(StandardCharsets.US_ASCII);
        Path e = pickleFile("inst.pt", inst);
        assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.read(e), "INST");
    }

    @Test
    void rejectsMalformedPickles() throws Exception {
        Object[][] cases = {
                {new Pk().op('}').bytes(), "no STOP"},
                {new Pk().op('.').bytes(), "STOP with 0 stack items"},
                {new Pk().op('h', 7).stop(), "memo entry 7 not defined"},
                {new Pk().op('u').stop(), "no MARK"},
                {new Pk().op('X', 0xff, 0xff, 0xff, 0x7f).stop(), "exceeds the remaining"},
                {new Pk().op(0x8a, 9, 1, 0, 0, 0, 0, 0, 0, 0, 1).stop(), "out of 64-bit range"},
                {new Pk().op(0x80, 9).stop(), "unsupported pickle protocol 9"},
                {new Pk().op('(').op(']').op('N').op('d').stop(), "unsupported dictionary key"},
                {new Pk().op('N').op('Q').stop(), "unsupported persistent id"},
                {new Pk().op(']').op('q', 0).op('h', 0).op('a').stop(), "reference cycle"},
        };
        int i = 0;
        for (Object[] c : cases) {
            Path f = pickleFile("bad" + i++ + ".pt", (byte[]) c[0]);
            assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.read(f), (String) c[1], f.toString());
        }
        // deep nesting: 100k nested lists
        Pk deep = new Pk();
        for (int k = 0; k < 100_000; k++) deep.op(']');
        for (int k = 0; k < 99_999; k++) deep.op('a');
        Path f = pickleFile("deep.pt", deep.stop());
        assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.read(f), "nested deeper than");
    }

    @Test
    void rejectsBadStoragesAndShapes() throws Exception {
        byte[] six = floats(0, 1, 2, 3, 4, 5);
        Object[][] cases = {
                // storage declaring more elements than its entry holds
                {"FloatStorage", 7L, 0L, new long[] {7}, new long[] {1}, "declares 7 elements of float32 (28 bytes) but its entry holds only 24"},
                {"FloatStorage", 1_000_000_000_000L, 0L, new long[] {6}, new long[] {1}, "but its entry holds only 24"},
                {"FloatStorage", Long.MAX_VALUE, 0L, new long[] {6}, new long[] {1}, "absurd element count"},
                {"FloatStorage", 6L, 0L, new long[] {-2, 3}, new long[] {3, 1}, "negative dimension"},
                {"FloatStorage", 6L, 0L, new long[] {2, 3}, new long[] {3, -1}, "negative stride"},
                {"FloatStorage", 6L, -1L, new long[] {2}, new long[] {1}, "negative storage offset"},
                {"FloatStorage", 6L, 1L, new long[] {2, 3}, new long[] {3, 1}, "reaches element 6 but the storage holds only 6"},
                {"FloatStorage", 6L, 0L, new long[] {1L << 40, 1L << 20}, new long[] {1, 1}, "reaches element"},
                {"FloatStorage", 6L, 0L, new long[] {1L << 40, 1L << 20}, new long[] {0, 0}, "more than the memory budget"},
                {"FloatStorage", 6L, 0L, new long[] {Long.MAX_VALUE, 2}, new long[] {0, 0}, "overflows 64 bits"},
                {"FloatStorage", 6L, 0L, new long[] {2, 3}, new long[] {3}, "differ in length"},
                {"ComplexFloatStorage", 3L, 0L, new long[] {3}, new long[] {1}, "forbidden global 'torch.ComplexFloatStorage'"},
                {"UntypedStorage", 24L, 0L, new long[] {3}, new long[] {1}, "not supported"},
        };
        int i = 0;
        for (Object[] c : cases) {
            Pk p = new Pk().op('}').str("t");
            p.tensor((String) c[0], "0", (Long) c[1], (Long) c[2], (long[]) c[3], (long[]) c[4]).op('s');
            Path f = torchZip(dir.resolve("st" + i++ + ".pt"), p.stop(), Map.of("0", six));
            assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.read(f), (String) c[5]);
        }
        Pk missing = new Pk().tensor("FloatStorage", "9", 1, 0, new long[] {1}, new long[] {1});
        Path f = torchZip(dir.resolve("missing.pt"), missing.stop(), Map.of("0", six));
        assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.read(f), "storage '9' has no entry");
        Pk traversal = new Pk().tensor("FloatStorage", "../../x", 1, 0, new long[] {1}, new long[] {1});
        Path g = torchZip(dir.resolve("key.pt"), traversal.stop(), Map.of("0", six));
        assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.read(g), "invalid storage key");
        Pk bool = new Pk().tensor("BoolStorage", "0", 2, 0, new long[] {2}, new long[] {1});
        Path h = torchZip(dir.resolve("bool.pt"), bool.stop(), Map.of("0", new byte[] {1, 2}));
        assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.read(h), "bytes other than 0 and 1");
    }

    @Test
    void rejectsNonCheckpointFiles() throws Exception {
        Path png = IoTestUtil.write(dir.resolve("image.pt"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0, 0, 13});
        assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.read(png), "image.pt", "PNG image");
        Path text = IoTestUtil.write(dir.resolve("notes.pt"), "these are not the weights you are looking for\n".getBytes());
        assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.read(text), "notes.pt", "text file");
        byte[] noise = new byte[4096];
        new Random(7).nextBytes(noise);
        noise[0] = 0x17;
        Path rnd = IoTestUtil.write(dir.resolve("random.pt"), noise);
        assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.read(rnd), "random.pt", "not a torch.save checkpoint");
        Path empty = IoTestUtil.write(dir.resolve("empty.pt"), new byte[0]);
        assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.read(empty), "empty file");
        // legacy (torch < 1.6) files start with a pickled magic number
        ByteArrayOutputStream legacy = new ByteArrayOutputStream();
        legacy.writeBytes(Sniff.TORCH_LEGACY_MAGIC);
        legacy.writeBytes(new byte[] {'.', 0, 0, 0});
        Path old = IoTestUtil.write(dir.resolve("old.pt"), legacy.toByteArray());
        assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.read(old),
                "legacy torch.save format (before 1.6) is not supported; re-save with torch>=1.6");
        // an npz handed to the torch reader
        Path npz = dir.resolve("arrays.npz");
        Npz.write(npz, Map.of("x", random(ScalarType.Float, 1, 3)));
        assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.read(npz), "no data.pkl", "npz");
        assertFails(java.nio.file.NoSuchFileException.class, () -> TorchCheckpoint.read(dir.resolve("absent.pt")));
    }

    @Test
    void rejectsTruncatedAndTamperedArchives() throws Exception {
        LinkedHashMap<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("a", random(ScalarType.Float, 1, 64, 64));
        sd.put("b", random(ScalarType.Float, 2, 64));
        Path f = dir.resolve("full.pt");
        TorchCheckpointWriter.write(f, sd);
        byte[] all = Files.readAllBytes(f);
        for (int cut : new int[] {all.length / 2, all.length - 30, 100, 3}) {
            Path t = IoTestUtil.write(dir.resolve("cut" + cut + ".pt"), Arrays.copyOf(all, cut));
            assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.read(t), "cut" + cut + ".pt");
        }
        // zip entry names that try to escape a directory
        for (String bad : new String[] {"../evil", "archive/../../etc/passwd", "/abs/path", "a\\b"}) {
            Path z = IoTestUtil.zip(dir.resolve("trav.pt"), Map.of(bad, new byte[] {1}), new Pk().op('N').stop(), Map.of());
            assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.read(z), "path traversal");
        }
        // a big-endian archive is refused, not misread
        Path be = IoTestUtil.zip(dir.resolve("be.pt"), Map.of("archive/byteorder", "big".getBytes()),
                new Pk().op('N').stop(), Map.of());
        assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.read(be), "big-endian");
        // TorchScript archives are named as such
        Path ts = IoTestUtil.zip(dir.resolve("script.pt"), Map.of("archive/constants.pkl", new byte[] {'.'}),
                new Pk().op('N').stop(), Map.of());
        assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.read(ts), "TorchScript");
    }

    @Test
    void writerRejectsUnsupportedValuesAndKeepsOldFile() throws Exception {
        Path f = dir.resolve("keep.pt");
        LinkedHashMap<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("w", random(ScalarType.Float, 1, 2));
        TorchCheckpointWriter.write(f, sd);
        byte[] before = Files.readAllBytes(f);
        Map<String, Object> bad = new LinkedHashMap<>();
        bad.put("w", random(ScalarType.Float, 1, 2));
        bad.put("thread", new Thread());
        assertFails(IllegalArgumentException.class, () -> TorchCheckpointWriter.write(f, bad), "thread", "Thread");
        List<Object> cyclic = new ArrayList<>();
        cyclic.add(cyclic);
        assertFails(IllegalArgumentException.class, () -> TorchCheckpointWriter.write(f, cyclic), "cycle");
        assertArrayEquals(before, Files.readAllBytes(f));
        try (var s = Files.list(dir)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temp files left");
        }
    }
}
