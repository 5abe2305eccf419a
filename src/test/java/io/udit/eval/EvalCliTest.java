package io.udit.eval;

import io.udit.cli.EvalCommand;
import io.udit.cli.Main;
import io.udit.cli.UserError;
import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.io.CheckpointFormatException;
import io.udit.io.Json;
import io.udit.io.Npy;
import io.udit.io.Npz;
import io.udit.io.WeightFiles;
import io.udit.testing.Cli;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code udit eval} end to end with formula Inception weights, and bad inputs giving exit code 2 with a message. */
class EvalCliTest {
    @TempDir
    static Path tmp;
    static Path weights;

    @BeforeAll
    static void writeWeights() throws Exception {
        Engine.init();
        weights = tmp.resolve("fid-formula.pth");
        WeightFiles.writeStateDict(weights, FidInceptionV3Test.formulaStateDict(true));
    }

    /**
     * Runs {@code udit <args>}: through {@link Main} once EvalCommand is registered there, until then through a
     * CommandLine with Main's exit-code rules (user errors exit 2, anything else 1).
     */
    static Cli.Result run(String... args) {
        if (new CommandLine(new Main()).getSubcommands().containsKey("eval")) return Cli.run(args);
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8); PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            System.setOut(o);
            System.setErr(e);
            CommandLine cl = new CommandLine(new Main()).addSubcommand("eval", new EvalCommand());
            cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
                boolean user = ex instanceof UserError || ex instanceof CheckpointFormatException || ex instanceof IOException
                        || ex instanceof UncheckedIOException;
                commandLine.getErr().println("udit " + commandLine.getCommandName() + ": " + (user ? "" : "internal error: ") + ex.getMessage());
                if (!user) ex.printStackTrace(commandLine.getErr());
                return user ? 2 : 1;
            });
            int code = cl.execute(args);
            return new Cli.Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    static Tensor images(long seed, int n, int h, int w) {
        Generator g = torch.make_generator_cpu(seed);
        return Tensors.empty(ScalarType.Float, n, h, w, 3).uniform_(0.0, 255.99, new GeneratorOptional(g)).to(ScalarType.Byte);
    }

    static Path npz(String name, Map<String, Tensor> arrays) throws IOException {
        Path p = tmp.resolve(name);
        Npz.write(p, arrays);
        return p;
    }

    static Path images(String name, Tensor x) throws IOException {
        return npz(name, Map.of("arr_0", x));
    }

    @Test
    void endToEndWithCachedActivations() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("e2e"));
        Path samples = dir.resolve("samples.npz");
        Path ref = dir.resolve("ref.npz");
        Npz.write(samples, Map.of("arr_0", images(1, 12, 32, 32)));
        Npz.write(ref, Map.of("arr_0", images(2, 14, 40, 40)));
        Cli.Result r = run("eval", "--samples", samples.toString(), "--ref", ref.toString(), "--inception", weights.toString(),
                "--batch", "5", "--json");
        assertEquals(0, r.exitCode(), r.all());
        Map<String, Object> m = Json.parseObject(r.out());
        for (String k : List.of("fid", "sfid", "inception_score", "precision", "recall")) {
            double v = ((Number) m.get(k)).doubleValue();
            assertTrue(Double.isFinite(v), k + " = " + v);
        }
        assertTrue(((Number) m.get("fid")).doubleValue() > 0);
        assertEquals(1, ((Number) m.get("inception_score_splits")).intValue());
        String notes = m.get("notes").toString();
        assertTrue(notes.contains("only 12 samples for 2048-dimensional"), notes);
        long cached;
        try (var files = Files.list(dir)) {
            cached = files.filter(p -> p.getFileName().toString().contains(".udit-acts-")).count();
        }
        assertEquals(2, cached, "one activation cache per input");

        // second run: activations come from the cache, numbers are identical; the table names every metric
        Cli.Result again = run("eval", "--samples", samples.toString(), "--ref", ref.toString(), "--inception", weights.toString());
        assertEquals(0, again.exitCode(), again.all());
        assertTrue(again.err().contains("using cache"), again.err());
        for (String row : List.of("Inception Score", "FID", "sFID", "Precision", "Recall")) assertTrue(again.out().contains(row), again.out());
        assertTrue(again.out().contains(String.format("%.4f", ((Number) m.get("fid")).doubleValue())), again.out());

        // the same numbers through the library, and against a reference of precomputed statistics only
        AdmEvaluator ev = AdmEvaluator.load(weights, AdmEvaluator.Options.defaults().withProgress(false));
        AdmEvaluator.Activations refActs;
        try (AdmBatchFile f = AdmBatchFile.open(ref)) {
            refActs = ev.activations(f, s -> { });
        }
        assertTrue(refActs.fromCache());
        Frechet.Stats pool = Frechet.Stats.of(refActs.pool3());
        Frechet.Stats spatial = Frechet.Stats.of(refActs.spatial());
        Path statsOnly = npz("stats-only.npz", new LinkedHashMap<>(Map.of("mu", pool.muTensor(), "sigma", pool.sigmaTensor(),
                "mu_s", spatial.muTensor(), "sigma_s", spatial.sigmaTensor())));
        Map<String, Object> s = Json.parseObject(run("eval", "--samples", samples.toString(), "--ref", statsOnly.toString(),
                "--inception", weights.toString(), "--json").out());
        assertEquals(((Number) m.get("fid")).doubleValue(), ((Number) s.get("fid")).doubleValue(), 1e-9);
        assertEquals(((Number) m.get("sfid")).doubleValue(), ((Number) s.get("sfid")).doubleValue(), 1e-9);
        assertNull(s.get("precision"));
        assertTrue(s.get("notes").toString().contains("precision and recall skipped"));
    }

    @Test
    void numpyWrittenBatchesAreRead() throws Exception {
        Tensor expected = Npy.read(Fixtures.path("adm/numpy_images.npy"));
        for (String f : List.of("adm/numpy_savez.npz", "adm/numpy_savez_compressed.npz")) {
            try (AdmBatchFile b = AdmBatchFile.open(Fixtures.path(f))) {
                assertArrayEquals(new long[] {5, 20, 24, 3}, b.imageShape());
                Tensor first = b.nextImages(3);
                Tensor rest = b.nextImages(3);
                assertEquals(2, rest.size(0));
                assertEquals(null, b.nextImages(3));
                assertEquals(0.0, Tensors.maxAbsDiff(first, expected.narrow(0, 0, 3)), f);
                assertEquals(0.0, Tensors.maxAbsDiff(rest, expected.narrow(0, 3, 2)), f);
            }
        }
        try (AdmBatchFile b = AdmBatchFile.open(Fixtures.path("adm/numpy_savez_compressed.npz"))) {
            assertTrue(b.hasStatistics());
            assertEquals(4, b.statistics(false).dim());
            assertEquals(3, b.statistics(true).dim());
        }
    }

    @Test
    void badInputsExitWithCode2AndAMessage() throws Exception {
        Path good = images("good.npz", images(3, 4, 32, 32));
        Path text = tmp.resolve("notes.txt");
        Files.writeString(text, "not an archive");
        Path oneImage = images("one.npz", images(4, 1, 32, 32));
        Path floats = images("floats.npz", images(5, 4, 32, 32).to(ScalarType.Float));
        Path nchw = images("nchw.npz", images(6, 4, 32, 32).permute(0, 3, 1, 2).contiguous());
        Path grey = images("grey.npz", Tensors.zeros(ScalarType.Byte, 4, 32, 32, 1));
        Path other = npz("other.npz", Map.of("images", images(7, 4, 32, 32)));
        Path partialStats = npz("partial.npz", new LinkedHashMap<>(Map.of("mu", Tensors.zeros(ScalarType.Double, 2048),
                "sigma", Tensors.zeros(ScalarType.Double, 2048, 2048))));
        Path wrongDims = npz("wrongdims.npz", new LinkedHashMap<>(Map.of("mu", Tensors.zeros(ScalarType.Double, 64),
                "sigma", Tensors.zeros(ScalarType.Double, 64, 64), "mu_s", Tensors.zeros(ScalarType.Double, 64),
                "sigma_s", Tensors.zeros(ScalarType.Double, 64, 64))));
        Path cnnWeights = tmp.resolve("cnn.pth");
        WeightFiles.writeStateDict(cnnWeights, new SmallCnn(3, 32, 10).stateDict());
        String w = weights.toString();
        Object[][] cases = {
            {new String[] {"--samples", tmp.resolve("missing.npz").toString(), "--ref", good.toString(), "--inception", w}, "no such file"},
            {new String[] {"--samples", text.toString(), "--ref", good.toString(), "--inception", w}, "is not an .npz archive"},
            {new String[] {"--samples", floats.toString(), "--ref", good.toString(), "--inception", w}, "dtype <f4, expected uint8"},
            {new String[] {"--samples", nchw.toString(), "--ref", good.toString(), "--inception", w}, "expected N x H x W x 3"},
            {new String[] {"--samples", grey.toString(), "--ref", good.toString(), "--inception", w}, "[4, 32, 32, 1]"},
            {new String[] {"--samples", other.toString(), "--ref", good.toString(), "--inception", w}, "has neither arr_0"},
            {new String[] {"--samples", oneImage.toString(), "--ref", good.toString(), "--inception", w}, "at least 2 samples"},
            {new String[] {"--samples", good.toString(), "--ref", partialStats.toString(), "--inception", w}, "needs all of mu, sigma, mu_s, sigma_s"},
            {new String[] {"--samples", good.toString(), "--ref", wrongDims.toString(), "--inception", w}, "cannot compare"},
            {new String[] {"--samples", good.toString(), "--ref", good.toString(), "--inception", tmp.resolve("none.pth").toString()},
                "FID Inception weights not found"},
            {new String[] {"--samples", good.toString(), "--ref", good.toString(), "--inception", cnnWeights.toString()},
                "is not the FID Inception-v3"},
            {new String[] {"--samples", good.toString(), "--ref", good.toString(), "--inception", text.toString()}, "not a weight file"},
            {new String[] {"--samples", good.toString(), "--ref", good.toString(), "--inception", w, "--batch", "0"}, "--batch must be"},
            {new String[] {"--samples", good.toString(), "--ref", good.toString(), "--inception", w, "--distances", "half"}, "--distances"},
        };
        for (Object[] c : cases) {
            String[] args = (String[]) c[0];
            String[] full = new String[args.length + 1];
            full[0] = "eval";
            System.arraycopy(args, 0, full, 1, args.length);
            Cli.Result r = run(full);
            assertEquals(2, r.exitCode(), String.join(" ", args) + "\n" + r.all());
            assertTrue(r.err().contains((String) c[1]), "expected '" + c[1] + "' in: " + r.err());
            assertTrue(!r.err().contains("internal error") && !r.err().contains("\tat "), r.err());
        }
    }
}
