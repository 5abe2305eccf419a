package io.udit.fuzz;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.io.Json;
import io.udit.io.Npy;
import io.udit.io.Npz;
import io.udit.io.Safetensors;
import io.udit.io.TorchCheckpointWriter;
import io.udit.model.ModelConfigs;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Writes the seed corpora under {@code src/test/resources/io/udit/fuzz/<Test>Inputs/<method>/}: small valid files
 * from our own writers plus the hostile cases of {@link Hostile}. Run from the project root:
 * {@code java -cp target/test-classes:target/classes:<test classpath> io.udit.fuzz.SeedCorpus}. Re-running rewrites
 * the {@code seed-*} files only (crash inputs Jazzer saved next to them are kept).
 */
public final class SeedCorpus {
    private SeedCorpus() {}

    static final Path ROOT = Path.of("src/test/resources/io/udit/fuzz");

    public static void main(String[] args) throws Exception {
        Engine.init();
        Path tmp = Files.createTempDirectory("seeds");
        try {
            pickles(tmp);
            safetensors(tmp);
            npy(tmp);
            npz(tmp);
            json();
            idx();
            images();
        } finally {
            FuzzSupport.deleteTree(tmp);
        }
    }

    static void seed(String test, String method, String name, byte[] data) throws IOException {
        Path d = ROOT.resolve(test + "Inputs").resolve(method);
        Files.createDirectories(d);
        Files.write(d.resolve("seed-" + name), data);
    }

    static void hostile(String test, String method, List<Hostile.Case> cases) throws IOException {
        for (Hostile.Case c : cases) if (c.data().length <= Hostile.MAX_SEED_BYTES) seed(test, method, c.name(), c.data());
    }

    static Tensor random(ScalarType t, long seed, long... shape) {
        long n = 1;
        for (long s : shape) n *= s;
        byte[] b = new byte[(int) (n * Tensors.empty(t, 1).element_size())];
        new Random(seed).nextBytes(b);
        if (t == ScalarType.Bool) for (int i = 0; i < b.length; i++) b[i] &= 1;
        return Tensors.fromBytes(b, t, shape);
    }

    static final ScalarType[] TYPES = {ScalarType.Float, ScalarType.Double, ScalarType.Half, ScalarType.BFloat16,
            ScalarType.Long, ScalarType.Int, ScalarType.Short, ScalarType.Char, ScalarType.Byte, ScalarType.Bool};

    static LinkedHashMap<String, Tensor> stateDict() {
        LinkedHashMap<String, Tensor> sd = new LinkedHashMap<>();
        for (int i = 0; i < TYPES.length; i++) sd.put("t" + i, random(TYPES[i], i, 2, 3));
        sd.put("scalar", random(ScalarType.Float, 99));
        sd.put("empty", random(ScalarType.Float, 98, 0, 4));
        return sd;
    }

    static byte[] entry(Path zip, String suffix) throws IOException {
        try (ZipFile z = new ZipFile(zip.toFile())) {
            for (ZipEntry e : java.util.Collections.list(z.entries())) {
                if (e.getName().endsWith(suffix)) {
                    try (InputStream in = z.getInputStream(e)) {
                        return in.readAllBytes();
                    }
                }
            }
        }
        throw new IOException("no " + suffix);
    }

    static void pickles(Path tmp) throws IOException {
        List<Object[]> trees = new ArrayList<>();
        trees.add(new Object[] {"state-dict", stateDict()});
        Map<String, Object> training = new LinkedHashMap<>();
        LinkedHashMap<String, Tensor> small = new LinkedHashMap<>();
        small.put("w", random(ScalarType.Float, 1, 4, 4));
        small.put("b", random(ScalarType.Float, 2, 4));
        training.put("model", small);
        training.put("ema", small);
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("lr", 1e-4);
        args.put("steps", 400000L);
        args.put("name", "U-DiT-B");
        args.put("flags", List.of(true, false));
        args.put("pair", new Object[] {1L, -7L, 1L << 40, Long.MIN_VALUE});
        args.put("raw", new byte[] {0, 1, 2, (byte) 0xff});
        args.put("none", null);
        args.put("unicode", "\u00e9\u4e2d\ud83d\ude00");
        training.put("args", args);
        trees.add(new Object[] {"training", training});
        trees.add(new Object[] {"list", List.of(1L, 2.5, "x", List.of(), new LinkedHashMap<>())});
        for (Object[] t : trees) {
            Path f = tmp.resolve(t[0] + ".pt");
            TorchCheckpointWriter.write(f, t[1]);
            seed("PickleFuzzTest", "checkpoint", t[0] + ".pt", Files.readAllBytes(f));
            seed("PickleFuzzTest", "pickle", t[0] + ".pkl", entry(f, "/data.pkl"));
        }
        hostile("PickleFuzzTest", "pickle", Hostile.pickles());
        hostile("PickleFuzzTest", "checkpoint", Hostile.checkpoints(tmp));
    }

    static void safetensors(Path tmp) throws IOException {
        Path f = tmp.resolve("a.safetensors");
        Safetensors.write(f, stateDict(), Map.of("format", "pt", "note", "seed"));
        seed("SafetensorsFuzzTest", "safetensors", "all-dtypes.safetensors", Files.readAllBytes(f));
        LinkedHashMap<String, Tensor> one = new LinkedHashMap<>();
        one.put("x", random(ScalarType.Float, 3, 3));
        Safetensors.write(f, one, null);
        seed("SafetensorsFuzzTest", "safetensors", "one.safetensors", Files.readAllBytes(f));
        hostile("SafetensorsFuzzTest", "safetensors", Hostile.safetensors(tmp));
    }

    static void npy(Path tmp) throws IOException {
        for (int i = 0; i < TYPES.length; i++) {
            if (TYPES[i] == ScalarType.BFloat16) continue; // numpy has no bfloat16
            byte[] b = Npy.toBytes(random(TYPES[i], i, 2, 3));
            seed("NpyFuzzTest", "npy", "dtype" + i + ".npy", b);
            seed("NpyFuzzTest", "npyArray", "dtype" + i + ".npy", b);
        }
        byte[] latent = Npy.toBytes(random(ScalarType.Float, 5, 4, 4, 4));
        seed("NpyFuzzTest", "npyArray", "latent.npy", latent);
        seed("NpyFuzzTest", "npyArray", "label.npy", Npy.toBytes(Tensors.longs(new long[] {3})));
        hostile("NpyFuzzTest", "npy", Hostile.npys());
        hostile("NpyFuzzTest", "npyArray", Hostile.npys());
    }

    static void npz(Path tmp) throws IOException {
        Path f = tmp.resolve("a.npz");
        LinkedHashMap<String, Tensor> m = new LinkedHashMap<>();
        m.put("arr_0", random(ScalarType.Float, 1, 2, 3));
        m.put("labels", random(ScalarType.Long, 2, 3));
        Npz.write(f, m);
        seed("NpzFuzzTest", "npz", "stored.npz", Files.readAllBytes(f));
        seed("NpzFuzzTest", "npz", "deflated.npz", Hostile.rezip(Files.readAllBytes(f), true));
        hostile("NpzFuzzTest", "npz", Hostile.npzs(tmp));
    }

    static void json() throws IOException {
        for (String name : new String[] {"U-DiT-S", "U-DiT-B", "DiT-S/2", "DiT-XL/8"}) {
            byte[] b = Json.writePretty(ModelConfigs.named(name).toMap()).getBytes(StandardCharsets.UTF_8);
            String n = name.replace('/', '_') + ".json";
            seed("JsonConfigFuzzTest", "config", n, b);
            seed("JsonConfigFuzzTest", "json", n, b);
        }
        seed("JsonConfigFuzzTest", "config", "named.json", "{\"model\": \"U-DiT-B\", \"num_classes\": 10, \"input_size\": 8}".getBytes(StandardCharsets.UTF_8));
        seed("JsonConfigFuzzTest", "config", "reference.json", ("{\"family\": \"udit\", \"input_size\": 32, \"depth\": [1,1,1,1,1], "
                + "\"hidden_size\": 64, \"num_heads\": 2, \"downsampler\": \"dwconv3\", \"ffn_type\": \"rep\", \"rep\": 1, "
                + "\"attn_type\": \"v2\", \"posemb_type\": \"rope2d\", \"down_factor\": 2, \"down_shortcut\": 1}").getBytes(StandardCharsets.UTF_8));
        seed("JsonConfigFuzzTest", "json", "values.json", ("{\"a\": [1, -0.5e-3, 1E+2, true, false, null, \"\\u00e9\\n\\\"\\ud83d\\ude00\"], "
                + "\"b\": {}, \"c\": [], \"big\": 123456789012345678901234567890, \"min\": -9223372036854775808}").getBytes(StandardCharsets.UTF_8));
        hostile("JsonConfigFuzzTest", "json", Hostile.jsons());
        hostile("JsonConfigFuzzTest", "config", Hostile.configs());
    }

    static byte[] idxBytes(int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.put((byte) 0).put((byte) 0).put((byte) 8).put((byte) dims.length);
        for (int d : dims) b.putInt(d);
        return b.put(data).array();
    }

    static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (OutputStream o = new GZIPOutputStream(bo)) {
            o.write(raw);
        }
        return bo.toByteArray();
    }

    static void idx() throws IOException {
        byte[] img = new byte[2 * 28 * 28];
        for (int i = 0; i < img.length; i++) img[i] = (byte) (i * 7);
        byte[] images = idxBytes(new int[] {2, 28, 28}, img);
        byte[] labels = idxBytes(new int[] {5}, new byte[] {0, 1, 2, 9, 3});
        seed("IdxFuzzTest", "idx", "images.idx3", images);
        seed("IdxFuzzTest", "idx", "labels.idx1", labels);
        seed("IdxFuzzTest", "idx", "images.idx3.gz", gzip(images));
        seed("IdxFuzzTest", "idx", "labels.idx1.gz", gzip(labels));
        hostile("IdxFuzzTest", "idx", Hostile.idxs());
    }

    static byte[] encode(BufferedImage im, String format) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        if (!ImageIO.write(im, format, bo)) throw new IOException("no writer for " + format);
        return bo.toByteArray();
    }

    static void images() throws IOException {
        int[] types = {BufferedImage.TYPE_INT_RGB, BufferedImage.TYPE_BYTE_GRAY, BufferedImage.TYPE_INT_ARGB,
                BufferedImage.TYPE_BYTE_INDEXED, BufferedImage.TYPE_USHORT_GRAY, BufferedImage.TYPE_BYTE_BINARY,
                BufferedImage.TYPE_3BYTE_BGR};
        for (int t : types) {
            BufferedImage im = new BufferedImage(12, 9, t);
            for (int y = 0; y < 9; y++) for (int x = 0; x < 12; x++) im.setRGB(x, y, (x * 20) << 16 | (y * 25) << 8 | ((x + y) * 9));
            seed("ImageFuzzTest", "image", "type" + t + ".png", encode(im, "png"));
            if (t == BufferedImage.TYPE_INT_RGB || t == BufferedImage.TYPE_BYTE_GRAY) {
                seed("ImageFuzzTest", "image", "type" + t + ".jpg", encode(im, "jpeg"));
                seed("ImageFuzzTest", "image", "type" + t + ".tif", encode(im, "tiff"));
            }
            if (t == BufferedImage.TYPE_INT_RGB) seed("ImageFuzzTest", "image", "rgb.bmp", encode(im, "bmp"));
            if (t == BufferedImage.TYPE_BYTE_INDEXED) seed("ImageFuzzTest", "image", "indexed.gif", encode(im, "gif"));
            if (t == BufferedImage.TYPE_BYTE_BINARY) seed("ImageFuzzTest", "image", "binary.wbmp", encode(im, "wbmp"));
        }
        hostile("ImageFuzzTest", "image", Hostile.images());
    }
}
