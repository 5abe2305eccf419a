package io.udit.fuzz;

import io.udit.data.DataException;
import io.udit.data.FuzzAccess;
import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.io.CheckpointFormatException;
import io.udit.io.Json;
import io.udit.io.Npy;
import io.udit.io.Npz;
import io.udit.io.Safetensors;
import io.udit.io.TorchCheckpoint;
import io.udit.io.TorchCheckpointWriter;
import io.udit.model.ModelConfigs;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The hand-made hostile corpus ({@link Hostile}) with assertions on exception type and message, and truncation of
 * valid files at every offset, for every parser. Cases already covered by the tests in {@code io.udit.io} and
 * {@code io.udit.data} (single truncations, basic zip bombs and traversal, forbidden globals through plain GLOBAL)
 * are not repeated here.
 */
class HostileInputsTest {
    @TempDir
    static Path tmp;

    @BeforeAll
    static void init() {
        Engine.init();
    }

    /** Runs {@code call}; an expected type (null: any clean rejection, or success) and message fragment. */
    static void check(Hostile.Case c, Class<? extends Throwable> clean, Executable call) {
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            try (PointerScope s = new PointerScope()) {
                call.execute();
                if (c.type() != null) fail(c.name() + ": accepted, expected " + c.type().getSimpleName() + " '" + c.fragment() + "'");
            } catch (Throwable t) {
                Class<? extends Throwable> want = c.type() != null ? c.type() : clean;
                if (!want.isInstance(t)) throw new AssertionError(c.name() + ": expected " + want.getSimpleName() + ", got " + t, t);
                String m = String.valueOf(t.getMessage());
                if (c.fragment() != null) assertTrue(m.contains(c.fragment()), c.name() + ": message '" + m + "' lacks '" + c.fragment() + "'");
            }
        }, c.name());
    }

    static Path file(String name, byte[] data) throws Exception {
        Path f = tmp.resolve(name);
        Files.write(f, data);
        return f;
    }

    static Stream<Hostile.Case> pickles() {
        return Stream.concat(Hostile.pickles().stream(), Hostile.amplifyingPickles().stream());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pickles")
    void pickle(Hostile.Case c) throws Exception {
        Path f = file("p-" + c.name() + ".pt", PickleFuzzTest.torchZip(c.data()));
        check(c, CheckpointFormatException.class, () -> TorchCheckpoint.read(f));
    }

    static Stream<Hostile.Case> checkpoints() {
        return Hostile.checkpoints(tmp).stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("checkpoints")
    void checkpoint(Hostile.Case c) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("ckpt-" + c.name()));
        Path f = dir.resolve("model.pt");
        Files.write(f, c.data());
        check(c, CheckpointFormatException.class, () -> TorchCheckpoint.read(f));
        // nothing is ever extracted: the folder holds only the checkpoint
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(f), s.toList(), "files next to the checkpoint after reading it");
        }
    }

    static Stream<Hostile.Case> safetensors() {
        return Hostile.safetensors(tmp).stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("safetensors")
    void safetensors(Hostile.Case c) throws Exception {
        Path f = file("s-" + c.name() + ".safetensors", c.data());
        check(c, CheckpointFormatException.class, () -> Safetensors.read(f));
    }

    static Stream<Hostile.Case> npys() {
        return Hostile.npys().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("npys")
    void npy(Hostile.Case c) throws Exception {
        Path f = file("n-" + c.name() + ".npy", c.data());
        Hostile.Case io = new Hostile.Case(c.name(), c.data(), CheckpointFormatException.class, c.fragment());
        check(io, CheckpointFormatException.class, () -> Npy.read(f));
        Hostile.Case data = new Hostile.Case(c.name(), c.data(), DataException.class, c.fragment());
        check(data, DataException.class, () -> FuzzAccess.npyArray(f, c.data()));
    }

    static Stream<Hostile.Case> npzs() {
        return Hostile.npzs(tmp).stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("npzs")
    void npz(Hostile.Case c) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("npz-" + c.name()));
        Path f = dir.resolve("a.npz");
        Files.write(f, c.data());
        check(c, CheckpointFormatException.class, () -> Npz.read(f));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(f), s.toList(), "files next to the archive after reading it");
        }
    }

    static Stream<Hostile.Case> jsons() {
        return Hostile.jsons().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("jsons")
    void json(Hostile.Case c) {
        check(c, Json.ParseException.class, () -> Json.parse(new String(c.data(), java.nio.charset.StandardCharsets.UTF_8)));
    }

    static Stream<Hostile.Case> configs() {
        return Hostile.configs().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void config(Hostile.Case c) {
        check(c, IllegalArgumentException.class,
                () -> ModelConfigs.fromMap(Json.parseObject(new String(c.data(), java.nio.charset.StandardCharsets.UTF_8))));
    }

    static Stream<Hostile.Case> idxs() {
        return Hostile.idxs().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("idxs")
    void idx(Hostile.Case c) throws Exception {
        boolean gz = (c.data()[0] & 0xff) == 0x1f;
        Path f = file(c.name() + "-idx3-ubyte" + (gz ? ".gz" : ""), c.data());
        int ndims = gz ? 3 : c.data()[3];
        check(c, DataException.class, () -> FuzzAccess.idx(f, ndims));
    }

    static Stream<Hostile.Case> images() {
        return Hostile.images().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("images")
    void image(Hostile.Case c) throws Exception {
        Path f = file(c.name() + ".img", c.data());
        check(c, DataException.class, () -> FuzzAccess.image(f, 8));
    }

    // ------------------------------------------------------------------------------------------------ truncation

    /** Every prefix of {@code full} (the first 64 byte by byte, then ~100 offsets) must fail cleanly naming the file. */
    static void truncations(String name, byte[] full, Class<? extends Throwable> type, IntFunction<Executable> readCut)
            throws Exception {
        int step = Math.max(1, full.length / 100);
        for (int cut = 0; cut < full.length; cut += (cut < 64 ? 1 : step)) {
            Path f = tmp.resolve("cut-" + name);
            Files.write(f, Arrays.copyOf(full, cut));
            int at = cut;
            Throwable t;
            try (PointerScope s = new PointerScope()) {
                t = assertThrows(Throwable.class, readCut.apply(cut), name + " cut at " + cut);
            }
            if (!type.isInstance(t)) throw new AssertionError(name + " cut at " + at + ": expected " + type.getSimpleName() + ", got " + t, t);
            assertTrue(String.valueOf(t.getMessage()).contains("cut-" + name), name + " cut at " + at + ": message lacks the file: " + t.getMessage());
        }
    }

    static Tensor random(ScalarType t, long seed, long... shape) {
        return SeedCorpus.random(t, seed, shape);
    }

    @Test
    void truncatedCheckpointsSafetensorsNpyNpz() throws Exception {
        LinkedHashMap<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("w", random(ScalarType.Float, 1, 8, 8));
        sd.put("b", random(ScalarType.Half, 2, 8));
        sd.put("m", random(ScalarType.Bool, 3, 5));
        Map<String, Object> training = new LinkedHashMap<>();
        training.put("model", sd);
        training.put("step", 7L);
        Path pt = tmp.resolve("full.pt");
        TorchCheckpointWriter.write(pt, training);
        truncations("x.pt", Files.readAllBytes(pt), CheckpointFormatException.class,
                cut -> () -> TorchCheckpoint.readStateDict(tmp.resolve("cut-x.pt"), null));
        Path st = tmp.resolve("full.safetensors");
        Safetensors.write(st, sd, Map.of("k", "v"));
        truncations("x.safetensors", Files.readAllBytes(st), CheckpointFormatException.class,
                cut -> () -> Safetensors.read(tmp.resolve("cut-x.safetensors")));
        byte[] npy = Npy.toBytes(random(ScalarType.Double, 4, 3, 5));
        truncations("x.npy", npy, CheckpointFormatException.class, cut -> () -> Npy.read(tmp.resolve("cut-x.npy")));
        truncations("y.npy", npy, DataException.class, cut -> () -> FuzzAccess.npyArray(tmp.resolve("cut-y.npy"),
                Arrays.copyOf(npy, cut)));
        Path npz = tmp.resolve("full.npz");
        Npz.write(npz, sd.entrySet().stream().filter(e -> !e.getKey().equals("m"))
                .collect(LinkedHashMap::new, (m, e) -> m.put(e.getKey(), e.getValue()), Map::putAll));
        byte[] stored = Files.readAllBytes(npz);
        truncations("x.npz", stored, CheckpointFormatException.class, cut -> () -> Npz.read(tmp.resolve("cut-x.npz")));
        truncations("z.npz", Hostile.rezip(stored, true), CheckpointFormatException.class,
                cut -> () -> Npz.read(tmp.resolve("cut-z.npz")));
    }

    @Test
    void truncatedIdxAndImages() throws Exception {
        byte[] img = new byte[3 * 28 * 28];
        for (int i = 0; i < img.length; i++) img[i] = (byte) (i * 13);
        byte[] idx = SeedCorpus.idxBytes(new int[] {3, 28, 28}, img);
        truncations("x-idx3-ubyte", idx, DataException.class, cut -> () -> FuzzAccess.idx(tmp.resolve("cut-x-idx3-ubyte"), 3));
        truncations("x-idx3-ubyte.gz", SeedCorpus.gzip(idx), DataException.class,
                cut -> () -> FuzzAccess.idx(tmp.resolve("cut-x-idx3-ubyte.gz"), 3));
        BufferedImage im = new BufferedImage(24, 20, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 20; y++) for (int x = 0; x < 24; x++) im.setRGB(x, y, x * 10 << 16 | y * 12 << 8 | (x ^ y) * 9);
        // ImageIO's PNG reader rejects any cut before the zlib checksum, CRC and IEND chunk at the end (which it does not need); its JPEG, GIF and BMP readers pad a cut body with grey and keep going (as
        // Pillow's LOAD_TRUNCATED_IMAGES does), so for them only a cut inside the headers must fail
        byte[] png = SeedCorpus.encode(im, "png");
        truncations("x.png", Arrays.copyOf(png, png.length - 20), DataException.class, cut -> () -> FuzzAccess.image(tmp.resolve("cut-x.png"), 8));
        byte[] jpg = SeedCorpus.encode(im, "jpeg");
        truncations("x.jpg", Arrays.copyOf(jpg, 150), DataException.class, cut -> () -> FuzzAccess.image(tmp.resolve("cut-x.jpg"), 8));
        for (int cut = 150; cut < jpg.length; cut += 7) {
            Path f = file("cutbody.jpg", Arrays.copyOf(jpg, cut));
            try {
                FuzzAccess.image(f, 8);
            } catch (DataException e) {
                assertTrue(e.getMessage().contains("cutbody.jpg"), e.getMessage());
            }
        }
    }
}
