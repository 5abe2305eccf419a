package io.udit.fuzz;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.io.Npy;
import io.udit.io.Safetensors;
import io.udit.io.TorchCheckpoint;
import io.udit.model.Backbone;
import io.udit.model.ModelConfig;
import io.udit.model.ModelConfigs;
import io.udit.testing.Cli;
import io.udit.testing.Pk;
import io.udit.io.Json;
import io.udit.train.TrainingCheckpoint;
import io.udit.train.FusedAdamW;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hostile inputs and user mistakes of issue 17 (and the checksum and output-file items of issue 16), each run
 * through the CLI: every one must end in exit 2 with a one-line message that names the problem, quickly and without a
 * stack trace. Small hostile files are built by {@link HostileFiles}, which the child-JVM memory test shares.
 */
class HostileCliTest {
    @TempDir
    static Path tmp;

    @BeforeAll
    static void init() {
        Engine.init();
    }

    /** Runs the CLI with a time limit and checks the user-mistake contract: exit 2, one line, naming {@code fragment}. */
    static Cli.Result refused(String fragment, String... args) {
        Cli.Result r = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> Cli.run(args), String.join(" ", args));
        assertEquals(2, r.exitCode(), String.join(" ", args) + " ->\n" + r.all());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "more than one line on stderr: " + err);
        assertFalse(err.contains("\tat ") || err.contains("Exception"), "stack trace or exception name on stderr: " + err);
        assertTrue(err.contains(fragment), "message '" + err + "' lacks '" + fragment + "'");
        return r;
    }

    static Path write(String name, byte[] data) throws Exception {
        Path f = tmp.resolve(name);
        Files.write(f, data);
        return f;
    }

    static Path text(String name, String content) throws Exception {
        Path f = tmp.resolve(name);
        Files.writeString(f, content);
        return f;
    }

    static Path fifo(String name) throws Exception {
        Path f = tmp.resolve(name);
        Files.deleteIfExists(f);
        Process p = new ProcessBuilder("mkfifo", f.toString()).inheritIO().start();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, "mkfifo");
        return f;
    }

    static Path symlink(String name, Path target) throws Exception {
        Path f = tmp.resolve(name);
        Files.deleteIfExists(f);
        return Files.createSymbolicLink(f, target);
    }

    static final String MICRO = "{\"input_size\": 8, \"in_channels\": 3, \"hidden_size\": 16, \"num_heads\": 2, \"depth\": [1, 1, 1, 1, 1],"
            + " \"mlp_ratio\": 2, \"num_classes\": 4, \"learn_sigma\": false, \"downsampler\": \"dwconv3\", \"down_shortcut\": 1,"
            + " \"down_factor\": 1}";

    /** A checksummed training checkpoint of a micro model; {@code corrupt} adds 1e-3 to one weight after the checksum was taken. */
    static Path trainingCheckpoint(String name, boolean corrupt) throws Exception {
        ModelConfig c = ModelConfigs.fromMap(Json.parseObject(MICRO));
        Backbone model = c.build(1), ema = c.build(1);
        FusedAdamW opt = new FusedAdamW(model.trainableParameters(), 1e-3, 0.9, 0.999, 0);
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("model", new LinkedHashMap<>(c.toMap()));
        Path f = tmp.resolve(name);
        TrainingCheckpoint.save(f, 1, model, ema, opt, args);
        if (corrupt) {
            @SuppressWarnings("unchecked")
            Map<String, Object> tree = (Map<String, Object>) TorchCheckpoint.read(f);
            @SuppressWarnings("unchecked")
            Map<String, Tensor> sd = (Map<String, Tensor>) tree.get("ema");
            try (var g = new org.bytedeco.pytorch.NoGradGuard()) {
                sd.values().iterator().next().add_(new org.bytedeco.pytorch.Scalar(1e-3));
            }
            io.udit.io.TorchCheckpointWriter.write(f, tree);
        }
        return f;
    }

    static Path microConfig() throws Exception {
        return text("micro.json", MICRO);
    }

    /** --x/--t/--y of forward naming existing placeholder files (empty: every case here is refused before they are read). */
    static String[] placeholderInputs() throws Exception {
        return new String[] {"--x", write("px.npy", new byte[0]).toString(), "--t", write("pt.npy", new byte[0]).toString(),
                "--y", write("py.npy", new byte[0]).toString(), "--out", tmp.resolve("o.npy").toString()};
    }

    // ------------------------------------------------------------------------------------------------ hostile files

    @Test
    void listDagInCheckpointArgsIsRefusedQuickly() throws Exception {
        Path f = write("dag.pt", HostileFiles.dagArgsCheckpoint());
        assertTrue(Files.size(f) < 2000, "size " + Files.size(f));
        refused("dag.pt", "sample", "--checkpoint", f.toString(), "--out", tmp.resolve("s-dag").toString());
    }

    @Test
    void strideZeroTensorsAreChargedTheirMaterialisedSize() throws Exception {
        Path one = write("stride0.pt", HostileFiles.strideZero(1));
        Path three = write("stride0x3.pt", HostileFiles.strideZero(3));
        assertTrue(Files.size(one) < 1000 && Files.size(three) < 1500, Files.size(one) + " " + Files.size(three));
        Path out = tmp.resolve("stride0.safetensors");
        refused("stride0.pt", "convert", one.toString(), out.toString());
        assertFalse(Files.exists(out), "convert wrote an output");
        refused("stride0x3.pt", "convert", three.toString(), tmp.resolve("stride0x3.safetensors").toString());
    }

    @Test
    void absurdConfigsAreRefusedBeforeAnyAllocation() throws Exception {
        refused("downsampler", "info", "--config", text("dw9999.json", "{\"model\": \"U-DiT-S\", \"downsampler\": \"dwconv9999\"}").toString());
        refused("hidden_size", "info", "--config", text("h1e9.json", "{\"hidden_size\": 1000000000, \"mlp_ratio\": 0.5, \"num_heads\": 1}").toString());
        refused("in_channels", "info", "--config", text("c2p30.json", "{\"model\": \"U-DiT-S\", \"in_channels\": 1073741824}").toString());
        Path ckpt = write("args-dwconv999.pt", HostileFiles.argsCheckpoint("dwconv999"));
        assertTrue(Files.size(ckpt) < 1000, "size " + Files.size(ckpt));
        refused("downsampler", "sample", "--checkpoint", ckpt.toString(), "--out", tmp.resolve("s-dw").toString());
    }

    @Test
    void modelsLargerThanTheMemoryBudgetAreRefusedNamingBothSizes() throws Exception {
        // within every field's bounds, but about 200 GB of parameters
        Path big = text("big.json", "{\"hidden_size\": 4096, \"num_heads\": 32, \"depth\": [24, 24, 24, 24, 24], \"mlp_ratio\": 4}");
        Cli.Result r = refused("budget", concat(new String[] {"forward", "--config", big.toString(), "--weights",
                write("w.safetensors", new byte[0]).toString()}, placeholderInputs()));
        assertTrue(r.err().contains("GiB"), r.err());
    }

    @Test
    void specialFilesAsConfigsAndWeights() throws Exception {
        refused("/dev/zero", "info", "--config", "/dev/zero");
        refused("/dev/urandom", "info", "--config", "/dev/urandom");
        Path fifo = fifo("config.fifo");
        refused("FIFO", "info", "--config", fifo.toString());
        Path cfg = microConfig();
        String[] xs = placeholderInputs();
        refused("is a directory", concat(new String[] {"forward", "--config", cfg.toString(), "--weights", tmp.toString()}, xs));
        refused("FIFO", concat(new String[] {"forward", "--config", cfg.toString(), "--weights", fifo("w.fifo").toString()}, xs));
        refused("device", concat(new String[] {"forward", "--config", cfg.toString(), "--weights", "/dev/zero"}, xs));
    }

    @Test
    void aVaeConfigThatIsADeviceOrAFifoIsRefusedWithoutReading() throws Exception {
        for (Path p : new Path[] {symlink("vae-config.json", Path.of("/dev/zero")), fifo("vae-config.fifo")}) {
            io.udit.vae.VaeException e = org.junit.jupiter.api.Assertions.assertThrows(io.udit.vae.VaeException.class,
                    () -> io.udit.vae.AutoencoderKLConfig.read(p));
            assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
        }
    }

    @Test
    void latentSymlinkedToDevZeroIsRefused() throws Exception {
        Path link = symlink("latent.npy", Path.of("/dev/zero"));
        refused("latent.npy", "decode", "--latents", link.toString(), "--vae", tmp.toString(), "--out", tmp.resolve("dec").toString());
        Path folder = Files.createDirectories(tmp.resolve("lat"));
        Path feats = Files.createDirectories(folder.resolve("x_features")), labels = Files.createDirectories(folder.resolve("x_labels"));
        Files.createSymbolicLink(feats.resolve("0.npy"), Path.of("/dev/zero"));
        Files.createSymbolicLink(labels.resolve("0.npy"), Path.of("/dev/zero"));
        io.udit.data.DataException e = org.junit.jupiter.api.Assertions.assertThrows(io.udit.data.DataException.class,
                () -> assertTimeoutPreemptively(Duration.ofSeconds(20), () -> io.udit.data.LatentFolder.open(folder, 0, false)));
        assertTrue(e.getMessage().contains("0.npy") && e.getMessage().contains("device"), e.getMessage());
    }

    @Test
    void fifoInsideAnImageFolderIsSkipped() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("imgs"));
        java.awt.image.BufferedImage im = new java.awt.image.BufferedImage(8, 8, java.awt.image.BufferedImage.TYPE_INT_RGB);
        javax.imageio.ImageIO.write(im, "png", root.resolve("a.png").toFile());
        Files.move(fifo("b.png"), root.resolve("b.png"));
        io.udit.data.ImageFolder f = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> new io.udit.data.ImageFolder(root, 8));
        assertEquals(1, f.size());
        assertTrue(f.skipped().contains("b.png"), f.skipped().toString());
    }

    // ------------------------------------------------------------------------------------------------ numbers

    /** {@code sample} of a valid micro checkpoint with one option set to a value; {@code refused} the option's name. */
    static void sampleRefuses(Path ckpt, String option, String value) {
        refused(option, "sample", "--checkpoint", ckpt.toString(), "--out", tmp.resolve("s-" + option.substring(2)).toString(), option, value);
    }

    @Test
    void sampleNumbersAreCheckedWhenParsed() throws Exception {
        Path ckpt = trainingCheckpoint("ok.pt", false);
        sampleRefuses(ckpt, "--cfg-scale", "Infinity");
        sampleRefuses(ckpt, "--eta", "NaN");
        sampleRefuses(ckpt, "--eta", "Infinity");
        sampleRefuses(ckpt, "--per-class", "-1");
    }

    @Test
    void overridesThatCannotApplyAreRefused() throws Exception {
        Path ckpt = trainingCheckpoint("ok2.pt", false);
        sampleRefuses(ckpt, "--num-classes", "7");
        sampleRefuses(ckpt, "--input-size", "16");
        Cli.Result ok = Cli.run("sample", "--checkpoint", ckpt.toString(), "--out", tmp.resolve("s-ov").toString(), "--num-classes", "4",
                "--input-size", "8", "--per-class", "1", "--steps", "2", "--classes", "0");
        assertEquals(0, ok.exitCode(), ok.all());
    }

    // ------------------------------------------------------------------------------------------------ plain mistakes

    @Test
    void plainMistakesAreExit2() throws Exception {
        Path ckpt = trainingCheckpoint("ok3.pt", false);
        refused(".txt", "convert", ckpt.toString(), tmp.resolve("w.txt").toString());
        Path npz = write("dotnpy.npz", HostileFiles.npzWithEntry(".npy"));
        refused("dotnpy.npz", "convert", npz.toString(), tmp.resolve("dotnpy.safetensors").toString());
        Path x = tmp.resolve("x0.npy"), t = tmp.resolve("t0.npy"), y = tmp.resolve("y0.npy");
        Npy.write(x, org.bytedeco.pytorch.global.torch.zeros(0, 3, 8, 8));
        Npy.write(t, org.bytedeco.pytorch.global.torch.zeros(0));
        Npy.write(y, Tensors.longs(new long[0], 0));
        refused("batch", "forward", "--weights", ckpt.toString(), "--config", microConfig().toString(), "--x", x.toString(),
                "--t", t.toString(), "--y", y.toString(), "--out", tmp.resolve("o0.npy").toString());
    }

    @Test
    void loneSurrogateNamesAreRefused() throws Exception {
        Path st = write("surrogates.safetensors", HostileFiles.safetensorsNamed("\\ud800", "\\ud801"));
        Path out = tmp.resolve("surrogates.pt");
        refused("Unicode", "convert", st.toString(), out.toString());
        assertFalse(Files.exists(out));
        Map<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("\ud800", org.bytedeco.pytorch.global.torch.zeros(1));
        sd.put("\ud801", org.bytedeco.pytorch.global.torch.zeros(1));
        for (String ext : List.of(".pt", ".safetensors", ".npz")) {
            Path f = tmp.resolve("sur" + ext);
            Throwable e = org.junit.jupiter.api.Assertions.assertThrows(Throwable.class, () -> io.udit.io.WeightFiles.writeStateDict(f, sd));
            assertTrue(e instanceof io.udit.engine.UserMistake && e.getMessage().contains("Unicode"), ext + ": " + e);
        }
    }

    @Test
    void messagesNameTheProblem() throws Exception {
        Path ckpt = trainingCheckpoint("ok4.pt", false);
        Path file = write("plain.txt", new byte[] {1});
        refused("not a directory", "sample", "--checkpoint", ckpt.toString(), "--out", file.toString(), "--per-class", "1", "--steps", "2");
    }

    // ------------------------------------------------------------------------------------------------ issue 16.7 / 16.8

    @Test
    void everyReaderChecksTheChecksum() throws Exception {
        Path bad = trainingCheckpoint("corrupt.pt", true);
        Path cfg = microConfig();
        refused("checksum", "sample", "--checkpoint", bad.toString(), "--out", tmp.resolve("s-bad").toString(), "--per-class", "1", "--steps", "2");
        refused("checksum", "convert", bad.toString(), tmp.resolve("bad.safetensors").toString());
        Path x = tmp.resolve("x1.npy"), t = tmp.resolve("t1.npy"), y = tmp.resolve("y1.npy");
        Npy.write(x, org.bytedeco.pytorch.global.torch.zeros(1, 3, 8, 8));
        Npy.write(t, org.bytedeco.pytorch.global.torch.zeros(1));
        Npy.write(y, Tensors.longs(new long[] {1}, 1));
        refused("checksum", "forward", "--weights", bad.toString(), "--config", cfg.toString(), "--x", x.toString(), "--t", t.toString(),
                "--y", y.toString(), "--out", tmp.resolve("o1.npy").toString());
        Throwable e = org.junit.jupiter.api.Assertions.assertThrows(Throwable.class, () -> io.udit.api.ModelFiles.load(bad, null, null));
        assertTrue(e.getMessage().contains("checksum"), e.toString());
        Cli.Result ok = Cli.run("convert", "--no-verify", bad.toString(), tmp.resolve("bad-ok.safetensors").toString());
        assertEquals(0, ok.exitCode(), ok.all());
    }

    @Test
    void outputsReplaceOnlyRegularFiles() throws Exception {
        Path ckpt = trainingCheckpoint("ok5.pt", false);
        Path target = write("target.bin", new byte[] {1});
        Path link = symlink("link.safetensors", target);
        refused("symlink", "convert", ckpt.toString(), link.toString());
        assertTrue(Files.isSymbolicLink(link) && Files.readAllBytes(target).length == 1, "the symlink or its target changed");
        Path fifo = fifo("out.safetensors");
        refused("FIFO", "convert", ckpt.toString(), fifo.toString());
        assertFalse(Files.isRegularFile(fifo, LinkOption.NOFOLLOW_LINKS));
        Path dir = Files.createDirectories(tmp.resolve("outdir.safetensors"));
        refused("directory", "convert", ckpt.toString(), dir.toString());
        Cli.Result ok = Cli.run("convert", ckpt.toString(), target.toString().replace(".bin", ".safetensors"));
        assertEquals(0, ok.exitCode(), ok.all());
    }

    static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
