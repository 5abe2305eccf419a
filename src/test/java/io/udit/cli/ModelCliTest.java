package io.udit.cli;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.io.Json;
import io.udit.io.Npy;
import io.udit.io.Safetensors;
import io.udit.io.TorchCheckpoint;
import io.udit.testing.Cli;
import io.udit.testing.Fixture;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** udit info / forward / convert from the command line, including bad input. */
class ModelCliTest {
    static Fixture fx;

    @BeforeAll
    static void init() {
        Engine.init();
        fx = Fixture.tiny();
    }

    @TempDir
    Path tmp;

    /** The fixture's model_config as a JSON file in the reference's own argument names. */
    Path tinyConfig() throws Exception {
        Path p = tmp.resolve("tiny.json");
        Files.writeString(p, "{\"input_size\": 16, \"in_channels\": 4, \"hidden_size\": 32, \"num_heads\": 2, "
                + "\"depth\": [1, 1, 2, 1, 1], \"mlp_ratio\": 2, \"num_classes\": 10, \"learn_sigma\": true, \"rep\": 1, "
                + "\"ffn_type\": \"rep\", \"attn_type\": \"v2\", \"posemb_type\": \"rope2d\", \"downsampler\": \"dwconv5\", "
                + "\"down_shortcut\": 1, \"down_factor\": 2}");
        return p;
    }

    Path npy(String name, Tensor t) throws Exception {
        Path p = tmp.resolve(name);
        Npy.write(p, t);
        return p;
    }

    @Test
    void infoPrintsThePublishedFigures() {
        Cli.Result r = Cli.run("info", "--model", "U-DiT-B", "--json");
        assertEquals(0, r.exitCode(), r.all());
        Map<String, Object> m = Json.parseObject(r.out());
        assertEquals(231_251_304L, ((Number) m.get("params_trained")).longValue());
        assertEquals(204_425_064L, ((Number) m.get("params_folded")).longValue());
        assertEquals(22.22, ((Number) m.get("gmacs_folded")).doubleValue());
        assertEquals(26.51, ((Number) m.get("gmacs_train")).doubleValue());
        Cli.Result table = Cli.run("info", "--all");
        assertEquals(0, table.exitCode());
        assertTrue(table.out().contains("118.66") && table.out().contains("85.00") && table.out().contains("6.04"), table.out());
    }

    @Test
    void forwardReproducesTheFixtureInBothForms() throws Exception {
        Path cfg = tinyConfig(), x = npy("x.npy", fx.tensor("input/x")), t = npy("t.npy", fx.tensor("input/t")),
                y = npy("y.npy", fx.tensor("input/y"));
        for (String form : List.of("eval", "train")) {
            Path out = tmp.resolve(form + ".npy");
            Cli.Result r = form.equals("train")
                    ? Cli.run("forward", "--config", cfg.toString(), "--weights", fx.checkpoint().toString(), "--x", x.toString(),
                    "--t", t.toString(), "--y", y.toString(), "--out", out.toString(), "--train-form")
                    : Cli.run("forward", "--config", cfg.toString(), "--weights", fx.checkpoint().toString(), "--x", x.toString(),
                    "--t", t.toString(), "--y", y.toString(), "--out", out.toString());
            assertEquals(0, r.exitCode(), r.all());
            double err = Tensors.relativeError(Npy.read(out), fx.tensor("output/" + form));
            assertTrue(err <= 1e-5, form + " relative error " + err);
        }
    }

    @Test
    void convertRoundTripsThroughSafetensorsAndBack() throws Exception {
        Path st = tmp.resolve("tiny.safetensors"), pt = tmp.resolve("tiny.pt");
        assertEquals(0, Cli.run("convert", fx.checkpoint().toString(), st.toString()).exitCode());
        assertEquals(0, Cli.run("convert", st.toString(), pt.toString()).exitCode());
        Map<String, Tensor> a = TorchCheckpoint.readStateDict(fx.checkpoint(), null);
        Map<String, Tensor> b = Safetensors.read(st), c = TorchCheckpoint.readStateDict(pt, null);
        assertEquals(List.copyOf(a.keySet()), List.copyOf(c.keySet()));
        for (String k : a.keySet()) {
            assertEquals(0.0, Tensors.maxAbsDiff(a.get(k), b.get(k)), k);
            assertEquals(0.0, Tensors.maxAbsDiff(a.get(k), c.get(k)), k);
        }
    }

    @Test
    void unknownModelListsTheValidNames() {
        Cli.Result r = Cli.run("info", "--model", "U-DiT-XXL");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("U-DiT-S") && r.err().contains("DiT-XL/2"), r.err());
    }

    @Test
    void badWeightsAndInputsExitWithCode2AndSayWhy() throws Exception {
        Path cfg = tinyConfig(), x = npy("x.npy", fx.tensor("input/x")), t = npy("t.npy", fx.tensor("input/t")),
                y = npy("y.npy", fx.tensor("input/y")), out = tmp.resolve("o.npy");
        // a state dict with a missing, an unexpected and a wrongly shaped key
        Map<String, Tensor> sd = new LinkedHashMap<>(TorchCheckpoint.readStateDict(fx.checkpoint(), null));
        sd.remove("output.bias");
        sd.put("extra.weight", Tensors.zeros(org.bytedeco.pytorch.global.torch.ScalarType.Float, 3));
        sd.put("x_embedder.proj.bias", Tensors.zeros(org.bytedeco.pytorch.global.torch.ScalarType.Float, 7));
        Path bad = tmp.resolve("bad.safetensors");
        Safetensors.write(bad, sd, Map.of());
        Cli.Result r = Cli.run("forward", "--config", cfg.toString(), "--weights", bad.toString(), "--x", x.toString(),
                "--t", t.toString(), "--y", y.toString(), "--out", out.toString());
        assertEquals(2, r.exitCode(), r.all());
        assertTrue(r.err().contains("output.bias") && r.err().contains("extra.weight") && r.err().contains("x_embedder.proj.bias"), r.err());

        // truncated checkpoint
        byte[] all = Files.readAllBytes(fx.checkpoint());
        Path truncated = tmp.resolve("truncated.pt");
        Files.write(truncated, java.util.Arrays.copyOf(all, all.length / 2));
        r = Cli.run("forward", "--config", cfg.toString(), "--weights", truncated.toString(), "--x", x.toString(),
                "--t", t.toString(), "--y", y.toString(), "--out", out.toString());
        assertEquals(2, r.exitCode(), r.all());

        // not a checkpoint at all
        Path text = tmp.resolve("notes.pt");
        Files.writeString(text, "this is not a checkpoint");
        r = Cli.run("convert", text.toString(), tmp.resolve("x.safetensors").toString());
        assertEquals(2, r.exitCode(), r.all());

        // labels out of range and wrong input size
        Path badY = npy("bady.npy", Tensors.longs(3, 11));
        r = Cli.run("forward", "--config", cfg.toString(), "--weights", fx.checkpoint().toString(), "--x", x.toString(),
                "--t", t.toString(), "--y", badY.toString(), "--out", out.toString());
        assertEquals(2, r.exitCode(), r.all());
        assertTrue(r.err().contains("labels must be in [0, 10]"), r.err());
        r = Cli.run("forward", "--model", "U-DiT-S", "--weights", fx.checkpoint().toString(), "--x", x.toString(),
                "--t", t.toString(), "--y", y.toString(), "--out", out.toString());
        assertEquals(2, r.exitCode(), r.all());
        assertTrue(Files.notExists(out), "no output written on failure");
    }

    @Test
    void configFileErrorsNameTheField() throws Exception {
        Path cfg = tmp.resolve("c.json");
        Files.writeString(cfg, "{\"model\": \"U-DiT-S\", \"num_heads\": 5}");
        Cli.Result r = Cli.run("info", "--config", cfg.toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("num_heads"), r.err());
        Files.writeString(cfg, "{\"model\": \"U-DiT-S\", \"attn_typo\": \"v2\"}");
        r = Cli.run("info", "--config", cfg.toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("attn_typo"), r.err());
        Files.writeString(cfg, "{\"model\": \"U-DiT-S\", \"input_size\": ");
        assertEquals(2, Cli.run("info", "--config", cfg.toString()).exitCode());
    }
}
