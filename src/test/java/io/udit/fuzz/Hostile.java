package io.udit.fuzz;

import io.udit.data.DataException;
import io.udit.io.CheckpointFormatException;
import io.udit.io.Json;
import io.udit.testing.Pk;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * The hand-made hostile corpus: each case is the input, the exception type a parser must fail with and a fragment of
 * its message. {@link HostileInputsTest} asserts them; {@link SeedCorpus} copies the small ones into the fuzzers' seeds.
 */
final class Hostile {
    private Hostile() {}

    /** Cases larger than this are asserted by the tests but not used as fuzzing seeds (they would slow every mutation). */
    static final int MAX_SEED_BYTES = 64 << 10;

    record Case(String name, byte[] data, Class<? extends Throwable> type, String fragment) {
        @Override
        public String toString() {
            return name;
        }
    }

    static final Class<CheckpointFormatException> CFE = CheckpointFormatException.class;

    private static Case c(String name, byte[] data, Class<? extends Throwable> type, String fragment) {
        return new Case(name, data, type, fragment);
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) o.writeBytes(p);
        return o.toByteArray();
    }

    static byte[] repeat(String s, int n) {
        return ascii(s.repeat(n));
    }

    // ------------------------------------------------------------------------------------------------ pickles

    /** data.pkl contents (wrapped by PickleFuzzTest.torchZip, storages 0..7 of 4096 bytes). */
    static List<Case> pickles() {
        List<Case> out = new ArrayList<>();
        String[][] forbidden = {{"os", "system"}, {"builtins", "eval"}, {"subprocess", "Popen"}, {"posix", "system"},
                {"builtins", "__import__"}, {"copyreg", "_reconstructor"}, {"numpy.core.multiarray", "_reconstruct"},
                {"torch.storage", "_load_from_bytes"}, {"nt", "system"}, {"builtins", "exec"}};
        for (String[] g : forbidden) {
            String q = g[0] + "." + g[1];
            String n = q.replace('.', '_');
            // the whitelisted OrderedDict called with [(key, <forbidden global>)], the global by GLOBAL and STACK_GLOBAL
            out.add(c("ordereddict-global-" + n, new Pk().global("collections", "OrderedDict").op(']').op('(')
                    .str("k").global(g[0], g[1]).op(0x86).op('e').op(0x85).op('R').stop(), CFE, "forbidden global '" + q + "'"));
            out.add(c("ordereddict-stackglobal-" + n, new Pk().stackGlobal("collections", "OrderedDict").op(']').op('(')
                    .str("k").stackGlobal(g[0], g[1]).str("id").op(0x85).op('R').op(0x86).op('e').op(0x85).op('R').stop(),
                    CFE, "forbidden global '" + q + "'"));
            // NEWOBJ on OrderedDict with the forbidden class as its argument
            out.add(c("newobj-" + n, new Pk().global("collections", "OrderedDict").global(g[0], g[1]).op(0x85).op(0x81).stop(),
                    CFE, "forbidden global '" + q + "'"));
            // INST (protocol 0): module and name inline
            out.add(c("inst-" + n, Pk.raw().op('(').str("id").op('i').text(g[0] + "\n" + g[1] + "\n").op('.').bytes(), CFE, "INST"));
        }
        // OBJ on a whitelisted class, REDUCE on a whitelisted non-callable, BUILD on a global
        out.add(c("obj-ordereddict", new Pk().op('(').global("collections", "OrderedDict").op('o').stop(), CFE, "OBJ"));
        out.add(c("reduce-storage-class", new Pk().global("torch", "FloatStorage").op(')').op('R').stop(), CFE, "cannot be called"));
        out.add(c("build-on-global", new Pk().global("collections", "OrderedDict").op('}').op('b').stop(), CFE, "BUILD on a collections.OrderedDict"));
        out.add(c("set-of-forbidden", new Pk().global("builtins", "set").op(']').global("os", "popen").op('a').op(0x85).op('R').stop(),
                CFE, "forbidden global 'os.popen'"));
        out.add(c("ext1", new Pk().op(0x82, 1).stop(), CFE, "EXT"));
        out.add(c("persid-text", new Pk().op('P').text("0\n").stop(), CFE, "PERSID"));
        out.add(c("global-newline-in-name", new Pk().op('c').text("os\nsystem\0\n").stop(), CFE, "forbidden global 'os.system\\x00'"));
        // structure bombs
        Pk marks = new Pk();
        for (int i = 0; i < 70_000; i++) marks.op('(');
        out.add(c("marks-70000", marks.stop(), CFE, "marks"));
        out.add(c("frame-huge", new Pk().op(0x95, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f).op('N').stop(), CFE, "frame of"));
        out.add(c("binunicode8-huge", new Pk().op(0x8d, 0, 0, 0, 0, 0, 0, 0, 0x40).stop(), CFE, "exceeds the remaining"));
        out.add(c("long4-huge", new Pk().op(0x8b, 0xff, 0xff, 0xff, 0x7f).stop(), CFE, "out of 64-bit range"));
        out.add(c("dict-cycle", new Pk().op('}').op('q', 0).str("self").op('h', 0).op('s').stop(), CFE, "reference cycle"));
        // a dictionary key nested 200000 tuples deep: key validation and hashing must not overflow the stack
        Pk deepKey = new Pk().op('}').op(')');
        for (int i = 0; i < 200_000; i++) deepKey.op(0x85);
        out.add(c("deep-tuple-key", deepKey.op('N').op('s').stop(), CFE, "nested deeper than"));
        // a persistent id whose first element is a list nested 200000 deep: the error message must not recurse
        Pk deepPid = new Pk();
        for (int i = 0; i < 200_000; i++) deepPid.op(']');
        for (int i = 0; i < 199_999; i++) deepPid.op('a');
        out.add(c("deep-persistent-id", deepPid.op(0x85).op('Q').stop(), CFE, "unsupported persistent id"));
        // tensors: stride-0 view of one element blown up to 2^40 elements; offsets beyond the storage
        out.add(c("tensor-expand-2^40", new Pk().tensor("FloatStorage", "0", 1, 0, new long[] {1L << 20, 1L << 20}, new long[] {0, 0}).stop(),
                CFE, "storage '0'"));
        out.add(c("tensor-100GB-storage", new Pk().tensor("FloatStorage", "0", 25_000_000_000L, 0, new long[] {1}, new long[] {1}).stop(),
                CFE, "entry holds only 4096 bytes"));
        out.add(c("tensor-negative-size", new Pk().tensor("FloatStorage", "0", 16, 0, new long[] {-4}, new long[] {1}).stop(),
                CFE, "negative dimension"));
        // issue 17: a stride-0 view of one float that becomes 2 GiB; a list DAG (memo GET + APPEND) with 2^40 leaves
        out.add(c("tensor-stride0-2GiB", new Pk().tensor("FloatStorage", "0", 1, 0, new long[] {1L << 29}, new long[] {0}).stop(),
                CFE, "2.0 GiB"));
        Pk dag = new Pk().op(']').op('q', 0).op('0');
        for (int i = 1; i <= 40; i++) dag.op(']').op('q', i).op('h', i - 1).op('a').op('h', i - 1).op('a').op('0');
        out.add(c("list-dag-2^40", dag.op('h', 40).stop(), CFE, "shared references"));
        out.add(c("tensor-wrong-dtype", new Pk().tensor("ComplexDoubleStorage", "0", 16, 0, new long[] {4}, new long[] {1}).stop(),
                CFE, "forbidden global 'torch.ComplexDoubleStorage'"));
        return out;
    }

    /** Pickles whose only problem is their size or the work they ask for (not seeds: too large). */
    static List<Case> amplifyingPickles() {
        List<Case> out = new ArrayList<>();
        // one 1 MB string encoded to bytes 4000 times: 4 GB from a 1 MB file
        Pk enc = new Pk().str("x".repeat(1 << 20)).op('q', 0).op('0').op('(');
        for (int i = 0; i < 4000; i++) enc.global("_codecs", "encode").op('h', 0).op(0x85).op('R');
        out.add(c("encode-amplification", enc.op('l').stop(), CFE, "more work than"));
        // a list of 100000 items copied by set() 100000 times: 10^10 element copies
        Pk set = new Pk().op(']').op('(');
        for (int i = 0; i < 100_000; i++) set.op('N');
        set.op('e').op('q', 0).op('0').op('(');
        for (int i = 0; i < 100_000; i++) set.global("builtins", "set").op('h', 0).op(0x85).op('R').op('0');
        out.add(c("set-copy-amplification", set.op('1').op('N').stop(), CFE, "more work than"));
        return out;
    }

    /** Whole .pt files. */
    static List<Case> checkpoints(Path tmp) {
        List<Case> out = new ArrayList<>();
        byte[] none = new Pk().op('N').stop();
        for (String bad : new String[] {"../../etc/passwd", "/etc/passwd", "archive/../../../tmp/x", "C:/Windows/x", "a\\..\\b", "archive/data/\0"}) {
            out.add(c("traversal-" + bad.replaceAll("[^A-Za-z0-9]", "_"), zip(false, "archive/data.pkl", none, bad, new byte[] {1}), CFE,
                    "path traversal"));
        }
        // a deflated data.pkl whose central directory claims 4 GB (ratio far above deflate's limit)
        out.add(c("deflate-ratio-lie", setSizes(zip(true, "archive/data.pkl", none), "archive/data.pkl", 4_000_000_000L, -1), CFE,
                "zip bomb"));
        // a deflated data.pkl that inflates past its declared size (8 MB of pickle NOPs behind a 3-byte declaration)
        byte[] big = concat(new Pk().op('N').bytes(), new byte[8 << 20]);
        out.add(c("inflates-past-declared", setSizes(zip(true, "archive/data.pkl", big), "archive/data.pkl", 3, -1), CFE,
                "more data than declared"));
        // a storage that is itself a zip bomb nested in the checkpoint: its bytes are only ever copied, never unpacked
        byte[] inner = zip(true, "bomb", new byte[8 << 20]);
        byte[] pkl = new Pk().tensor("ByteStorage", "0", inner.length, 0, new long[] {inner.length}, new long[] {1}).stop();
        out.add(c("nested-zip-storage", zip(false, "archive/data.pkl", pkl, "archive/data/0", inner), null, null));
        out.add(c("empty-zip", zip(false), CFE, "no data.pkl"));
        // issue 17's whole files: a list DAG in the args, stride-0 tensors, args asking for an absurd downsampler (the
        // parser accepts that one: the config check refuses it, see HostileCliTest)
        out.add(c("args-list-dag", HostileFiles.dagArgsCheckpoint(), CFE, "shared references"));
        out.add(c("stride0-x1", HostileFiles.strideZero(1), CFE, "2.0 GiB"));
        out.add(c("stride0-x3", HostileFiles.strideZero(3), CFE, "2.0 GiB"));
        out.add(c("args-dwconv999", HostileFiles.argsCheckpoint("dwconv999"), null, null));
        // records pointing past the end of the file (java.util.zip throws a bare EOFException for these; found by fuzzing)
        byte[] ok = zip(false, "archive/data.pkl", none);
        byte[] comment = ok.clone();
        comment[comment.length - 2] = 0x40; // end-of-central-directory comment length 64, no comment bytes
        out.add(c("eocd-comment-past-end", comment, CFE, "not a readable zip archive"));
        out.add(c("local-header-past-end", setLocalOffset(ok, "archive/data.pkl", ok.length - 10), CFE,
                "a zip record points past the end of the file"));
        out.add(c("two-pickles", zip(false, "a/data.pkl", none, "b/data.pkl", none), CFE, "several data.pkl"));
        out.add(c("bzip2-method", setMethod(zip(false, "archive/data.pkl", none), 12), CFE, "compression"));
        return out;
    }

    // ------------------------------------------------------------------------------------------------ safetensors

    static byte[] safetensors(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        return b.putLong(h.length).put(h).put(data).array();
    }

    static List<Case> safetensors(Path tmp) {
        List<Case> out = new ArrayList<>();
        out.add(c("negative-shape", safetensors("{\"x\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", new byte[4]), CFE, "negative dimension"));
        out.add(c("shape-overflow", safetensors("{\"x\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,4]}}", new byte[4]),
                CFE, "overflows 64 bits"));
        out.add(c("shape-100GB", safetensors("{\"x\":{\"dtype\":\"F32\",\"shape\":[25000000000],\"data_offsets\":[0,100000000000]}}", new byte[4]),
                CFE, "truncated"));
        out.add(c("wrong-dtype", safetensors("{\"x\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8]), CFE, "unsupported dtype"));
        out.add(c("float-shape", safetensors("{\"x\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", new byte[4]), CFE, "non-integer"));
        out.add(c("overlap", safetensors("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}",
                new byte[6]), CFE, "overlap"));
        out.add(c("deep-json", safetensors("{\"__metadata__\":" + "[".repeat(50_000) + "]".repeat(50_000) + "}", new byte[0]), CFE, "nested deeper than"));
        out.add(c("header-not-object", safetensors("[1, 2]", new byte[0]), CFE, "does not start with '{'"));
        out.add(c("metadata-not-string", safetensors("{\"__metadata__\":{\"k\":1}}", new byte[0]), CFE, "not a string"));
        out.add(c("nul-in-name", safetensors("{\"a\\u0000\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", new byte[] {1}), null, null));
        out.add(c("bool-bytes", safetensors("{\"a\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[0,2]}}", new byte[] {1, 7}), CFE, "other than 0 and 1"));
        out.add(c("lone-surrogate-names", HostileFiles.safetensorsNamed("\\ud800", "\\ud801"), CFE, "not valid Unicode"));
        out.add(c("invalid-utf8", safetensors("{\"\u00ff\":1}", new byte[0]), null, null));
        return out;
    }

    // ------------------------------------------------------------------------------------------------ npy / npz

    static byte[] npy(String dict, byte[] data) {
        return npy(1, dict, data);
    }

    static byte[] npy(int major, String dict, byte[] data) {
        byte[] h = (dict + "\n").getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(12 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put(ascii("NUMPY")).put((byte) major).put((byte) 0);
        if (major == 1) b.putShort((short) h.length);
        else b.putInt(h.length);
        b.put(h).put(data);
        return Arrays.copyOf(b.array(), b.position());
    }

    /** .npy files that both readers (io.Npy: CheckpointFormatException, data.NpyArray: DataException) must refuse. */
    static List<Case> npys() {
        List<Case> out = new ArrayList<>();
        out.add(c("shape-100GB", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (25000000000,), }", new byte[16]), null, "25000000000"));
        out.add(c("shape-overflow", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 6148914691236517206), }", new byte[8]), null, "6148914691236517206"));
        out.add(c("shape-overflow-to-zero", npy("{'descr': '<u1', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", new byte[0]), null, "4294967296"));
        out.add(c("negative-shape", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 4), }", new byte[16]), null, "negative dimension"));
        out.add(c("complex-dtype", npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", new byte[8]), null, "unsupported"));
        out.add(c("object-dtype", npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", new byte[8]), null, "'|O'"));
        out.add(c("structured-dtype", npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", new byte[4]), null, "structured"));
        out.add(c("header-4GB", concat(new byte[] {(byte) 0x93}, ascii("NUMPY"), new byte[] {2, 0, -1, -1, -1, -1}, ascii("{'descr'")), null, "header"));
        out.add(c("version-9", npy(9, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new byte[4]), null, "version 9"));
        out.add(c("huge-dimension-count", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (" + "1,".repeat(100) + "), }", new byte[4]), null, "dimensions"));
        return out;
    }

    static List<Case> npzs(Path tmp) {
        List<Case> out = new ArrayList<>();
        byte[] tenFloats = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (10,), }", new byte[40]);
        // zeros behind a header declaring 10 floats: deflated entry honest about its 8 MB size
        byte[] bomb = concat(tenFloats, new byte[8 << 20]);
        out.add(c("bomb-honest-size", zip(true, "x.npy", bomb), CFE, "npy header declares"));
        out.add(c("bomb-lying-size", setSizes(zip(true, "x.npy", bomb), "x.npy", tenFloats.length, -1), CFE, "inflates to more"));
        // nested: an npz inside an npz, and a zip bomb named .npy
        out.add(c("nested-npz", zip(true, "inner.npz", zip(true, "x.npy", bomb)), CFE, "not an .npy array"));
        out.add(c("zip-named-npy", zip(true, "x.npy", zip(true, "y.npy", bomb)), CFE, "npy"));
        out.add(c("header-100GB", zip(false, "x.npy", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (12500000000,), }", new byte[8])), CFE,
                "but the zip entry is"));
        for (String bad : new String[] {"../../etc/passwd.npy", "/abs.npy", "..\\x.npy"}) {
            out.add(c("traversal-" + bad.replaceAll("[^A-Za-z0-9]", "_"), zip(false, bad, tenFloats), CFE, "path traversal"));
        }
        out.add(c("pickle-entry", zip(false, "archive/data.pkl", new Pk().op('N').stop()), CFE, "torch.save checkpoint"));
        byte[] ok = zip(false, "x.npy", tenFloats);
        out.add(c("local-header-past-end", setLocalOffset(ok, "x.npy", ok.length - 10), CFE, "a zip record points past the end of the file"));
        return out;
    }

    // ------------------------------------------------------------------------------------------------ JSON / configs

    static final Class<Json.ParseException> PE = Json.ParseException.class;

    static List<Case> jsons() {
        List<Case> out = new ArrayList<>();
        out.add(c("deep-arrays", repeat("[", 100_000), PE, "nested deeper than"));
        out.add(c("deep-objects", repeat("{\"a\":", 100_000), PE, "nested deeper than"));
        out.add(c("long-number", concat(ascii("0."), repeat("1", 100_000)), PE, "too long"));
        out.add(c("huge-integer", repeat("9", 1000), PE, "too long"));
        out.add(c("unicode-digit-escape", ("\"\\u" + "\u0661".repeat(4) + "\"").getBytes(StandardCharsets.UTF_8), PE, "invalid \\u escape"));
        out.add(c("nan", ascii("NaN"), PE, "unexpected character"));
        out.add(c("overflowing-double", ascii("[1, -1e999]"), PE, "out of the range of a double"));
        out.add(c("lone-minus", ascii("-"), PE, "truncated number"));
        out.add(c("duplicate-key", ascii("{\"a\":1,\"a\":2}"), PE, "duplicate key"));
        return out;
    }

    static final Class<IllegalArgumentException> IAE = IllegalArgumentException.class;

    static List<Case> configs() {
        List<Case> out = new ArrayList<>();
        out.add(c("infinite-mlp-ratio", ascii("{\"model\": \"U-DiT-S\", \"mlp_ratio\": 1e999, \"ffn_type\": \"basic\"}"), IAE, "out of the range"));
        out.add(c("huge-mlp-ratio", ascii("{\"model\": \"U-DiT-S\", \"mlp_ratio\": 1e300, \"ffn_type\": \"basic\"}"), IAE, "mlp_ratio"));
        out.add(c("huge-kernel", ascii("{\"downsampler\": \"dwconv99999999999\"}"), IAE, "downsampler"));
        out.add(c("huge-hidden", ascii("{\"hidden_size\": 1e10}"), IAE, "hidden_size"));
        out.add(c("depth-strings", ascii("{\"depth\": [\"a\", 1, 1, 1, 1]}"), IAE, "depth must hold integers"));
        out.add(c("family-number", ascii("{\"family\": 5}"), IAE, "family must be a string"));
        out.add(c("udit-as-dit", ascii("{\"model\": \"U-DiT-S\", \"family\": \"dit\"}"), IAE, "is not a DiT"));
        out.add(c("unknown-model", ascii("{\"model\": \"../../etc/passwd\"}"), IAE, "unknown model"));
        out.add(c("not-object", ascii("[]"), IAE, "expected a JSON object"));
        out.add(c("deep", repeat("[", 10_000), IAE, "nested deeper than"));
        out.add(c("dwconv9999", ascii("{\"downsampler\": \"dwconv9999\"}"), IAE, "downsampler"));
        out.add(c("hidden-1e9-mlp-half", ascii("{\"hidden_size\": 1000000000, \"mlp_ratio\": 0.5, \"num_heads\": 1}"), IAE, "hidden_size"));
        out.add(c("in-channels-2^30", ascii("{\"model\": \"U-DiT-S\", \"in_channels\": 1073741824}"), IAE, "in_channels"));
        out.add(c("dit-patch-larger-than-input", ascii("{\"family\": \"dit\", \"input_size\": 4, \"patch_size\": 1000000}"), IAE, "patch_size"));
        out.add(c("num-classes-2^31", ascii("{\"num_classes\": 2147483647}"), IAE, "num_classes"));
        return out;
    }

    // ------------------------------------------------------------------------------------------------ IDX

    static byte[] idxHeader(int ndims, int... dims) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length);
        b.put((byte) 0).put((byte) 0).put((byte) 8).put((byte) ndims);
        for (int d : dims) b.putInt(d);
        return b.array();
    }

    static final Class<DataException> DE = DataException.class;

    static List<Case> idxs() {
        List<Case> out = new ArrayList<>();
        out.add(c("absurd-dims", concat(idxHeader(3, 0x7fffffff, 0x7fffffff, 0x7fffffff), new byte[64]), DE, "promise more than"));
        out.add(c("dims-just-over-2GB", concat(idxHeader(3, 1 << 16, 1 << 8, 1 << 7), new byte[64]), DE, "promise more than"));
        out.add(c("negative-dim", concat(idxHeader(3, 0x80000000, 28, 28), new byte[64]), DE, "dimension 0 is 2147483648"));
        out.add(c("zero-dim", concat(idxHeader(1, 0), new byte[0]), DE, "dimension 0 is 0"));
        out.add(c("float-elements", concat(new byte[] {0, 0, 0x0d, 1}, new byte[] {0, 0, 0, 1}, new byte[4]), DE, "not unsigned byte"));
        out.add(c("gzip-2GB-claim", gzipQuiet(concat(idxHeader(3, 60000, 1000, 30), new byte[64])), DE, "compressed bytes can hold"));
        return out;
    }

    static byte[] gzipQuiet(byte[] raw) {
        try {
            return SeedCorpus.gzip(raw);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------------------------------------ images

    static byte[] pngChunk(String type, byte[] body) {
        ByteBuffer b = ByteBuffer.allocate(12 + body.length);
        b.putInt(body.length).put(ascii(type)).put(body);
        CRC32 crc = new CRC32();
        crc.update(b.array(), 4, 4 + body.length);
        return b.putInt((int) crc.getValue()).array();
    }

    static byte[] png(int w, int h, byte[]... chunks) {
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        List<byte[]> parts = new ArrayList<>();
        parts.add(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10});
        parts.add(pngChunk("IHDR", ihdr.array()));
        parts.addAll(Arrays.asList(chunks));
        return concat(parts.toArray(new byte[0][]));
    }

    static byte[] deflate(byte[] raw) {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (DeflaterOutputStream d = new DeflaterOutputStream(bo, new Deflater(9))) {
            d.write(raw);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bo.toByteArray();
    }

    /** Baseline JPEG headers (SOI, DQT, SOF0 w x h, 3 components) without scan data. */
    static byte[] jpegHeader(int w, int h) {
        ByteBuffer b = ByteBuffer.allocate(200);
        b.put(new byte[] {(byte) 0xff, (byte) 0xd8});
        b.put(new byte[] {(byte) 0xff, (byte) 0xdb, 0, 67, 0});
        for (int i = 0; i < 64; i++) b.put((byte) 1);
        b.put(new byte[] {(byte) 0xff, (byte) 0xc0, 0, 17, 8}).putShort((short) h).putShort((short) w).put((byte) 3);
        for (int i = 1; i <= 3; i++) b.put((byte) i).put((byte) 0x11).put((byte) 0);
        b.put(new byte[] {(byte) 0xff, (byte) 0xda, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 0x3f, 0}); // SOS, no scan data
        b.put(new byte[] {(byte) 0xff, (byte) 0xd9});
        return Arrays.copyOf(b.array(), b.position());
    }

    static byte[] bmpHeader(int w, int h) {
        ByteBuffer b = ByteBuffer.allocate(54).order(ByteOrder.LITTLE_ENDIAN);
        b.put(ascii("BM")).putInt(54 + 16).putInt(0).putInt(54);
        b.putInt(40).putInt(w).putInt(h).putShort((short) 1).putShort((short) 24).putInt(0).putInt(16).putInt(2835).putInt(2835).putInt(0).putInt(0);
        return concat(b.array(), new byte[16]);
    }

    static byte[] gifHeader(int w, int h) {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        b.put(ascii("GIF89a")).putShort((short) w).putShort((short) h).put((byte) 0).put((byte) 0).put((byte) 0);
        b.put((byte) 0x2c).putShort((short) 0).putShort((short) 0).putShort((short) w).putShort((short) h).put((byte) 0);
        b.put((byte) 2).put((byte) 2).put((byte) 0x4c).put((byte) 0x01).put((byte) 0).put((byte) 0x3b);
        return Arrays.copyOf(b.array(), b.position());
    }

    static List<Case> images() {
        List<Case> out = new ArrayList<>();
        out.add(c("png-100000x100000", png(100_000, 100_000, pngChunk("IDAT", deflate(new byte[1 << 16])), pngChunk("IEND", new byte[0])), DE, "too large"));
        out.add(c("png-2^31-1-wide", png(0x7fffffff, 1, pngChunk("IEND", new byte[0])), DE, "too large"));
        // small image whose zTXt metadata chunk inflates to 16 MB: metadata is never decoded
        byte[] ztxt = concat(ascii("Comment\0\0"), deflate(new byte[16 << 20]));
        out.add(c("png-ztxt-bomb", png(1, 1, pngChunk("zTXt", ztxt), pngChunk("IDAT", deflate(new byte[4])), pngChunk("IEND", new byte[0])), null, null));
        // IDAT inflating far beyond 8x8 pixels
        out.add(c("png-idat-bomb", png(8, 8, pngChunk("IDAT", deflate(new byte[32 << 20])), pngChunk("IEND", new byte[0])), null, null));
        out.add(c("png-no-idat", png(8, 8, pngChunk("IEND", new byte[0])), DE, "corrupt or unreadable image"));
        // a 1-pixel-wide strip within the decoding limit (a 76 KB file, above MAX_SEED_BYTES) that the centre crop would
        // upscale 8x, to 8 x 160000000 pixels (found by code review: an OutOfMemoryError in the resampler before the
        // size was checked)
        out.add(c("png-1x20000000-strip", png(1, 20_000_000, pngChunk("IDAT", deflate(new byte[80_000_000])), pngChunk("IEND", new byte[0])),
                DE, "too thin"));
        out.add(c("jpeg-65000x65000", jpegHeader(65000, 65000), DE, "too large"));
        out.add(c("jpeg-no-scan-data", jpegHeader(16, 16), null, null)); // decoded as grey, like a truncated body
        out.add(c("bmp-huge", bmpHeader(1 << 20, 1 << 20), DE, null));
        out.add(c("bmp-negative-width", bmpHeader(-5, 4), DE, null));
        out.add(c("gif-65535x65535", gifHeader(65535, 65535), DE, "too large"));
        out.add(c("wbmp-huge", new byte[] {0, 0, (byte) 0x84, (byte) 0x80, 0, (byte) 0x84, (byte) 0x80, 0}, DE, null));
        return out;
    }

    // ------------------------------------------------------------------------------------------------ zip helpers

    /** A zip of (name, data) pairs, all stored or all deflated. */
    static byte[] zip(boolean deflate, Object... nameData) {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bo)) {
            for (int i = 0; i < nameData.length; i += 2) {
                byte[] d = (byte[]) nameData[i + 1];
                ZipEntry e = new ZipEntry((String) nameData[i]);
                if (deflate) {
                    e.setMethod(ZipEntry.DEFLATED);
                } else {
                    e.setMethod(ZipEntry.STORED);
                    CRC32 crc = new CRC32();
                    crc.update(d);
                    e.setSize(d.length);
                    e.setCompressedSize(d.length);
                    e.setCrc(crc.getValue());
                }
                z.putNextEntry(e);
                z.write(d);
                z.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bo.toByteArray();
    }

    /** The same entries, re-written stored or deflated. */
    static byte[] rezip(byte[] zip, boolean deflate) {
        List<Object> nd = new ArrayList<>();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                nd.add(e.getName());
                nd.add(in.readAllBytes());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return zip(deflate, nd.toArray());
    }

    /** Patches the central-directory sizes of entry {@code name} (-1: keep). */
    static byte[] setSizes(byte[] zip, String name, long size, long csize) {
        byte[] out = zip.clone();
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        for (int p = 0; p + 46 <= out.length; p++) {
            if (b.getInt(p) != 0x02014b50) continue;
            int nlen = b.getShort(p + 28) & 0xffff;
            if (nlen == n.length && Arrays.equals(Arrays.copyOfRange(out, p + 46, p + 46 + nlen), n)) {
                if (csize >= 0) b.putInt(p + 20, (int) csize);
                if (size >= 0) b.putInt(p + 24, (int) size);
            }
        }
        return out;
    }

    /** Patches the local-header offset that the central directory gives for entry {@code name}. */
    static byte[] setLocalOffset(byte[] zip, String name, int offset) {
        byte[] out = zip.clone();
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        for (int p = 0; p + 46 <= out.length; p++) {
            if (b.getInt(p) != 0x02014b50) continue;
            int nlen = b.getShort(p + 28) & 0xffff;
            if (nlen == n.length && Arrays.equals(Arrays.copyOfRange(out, p + 46, p + 46 + nlen), n)) b.putInt(p + 42, offset);
        }
        return out;
    }

    /** Patches the compression method of every entry (local and central headers). */
    static byte[] setMethod(byte[] zip, int method) {
        byte[] out = zip.clone();
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        for (int p = 0; p + 30 <= out.length; p++) {
            if (b.getInt(p) == 0x04034b50) b.putShort(p + 8, (short) method);
            else if (b.getInt(p) == 0x02014b50) b.putShort(p + 10, (short) method);
        }
        return out;
    }
}
