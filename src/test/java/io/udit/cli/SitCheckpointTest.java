package io.udit.cli;

import io.udit.engine.Engine;
import io.udit.io.Json;
import io.udit.io.TorchCheckpointWriter;
import io.udit.model.DiT;
import io.udit.model.DiTConfig;
import io.udit.testing.Cli;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A checkpoint in SiT's layout ({model, ema, opt, args} with SiT's transport arguments) samples as a flow model. */
class SitCheckpointTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void init() {
        Engine.init();
    }

    /** A tiny random DiT with learned variance (as SiT's networks) saved as SiT's train.py saves its checkpoints. */
    Path sitCheckpoint(Path config) throws Exception {
        DiTConfig c = new DiTConfig(8, 2, 4, 64, 2, 4, 4.0, 0.1, 4, true);
        Files.writeString(config, Json.write(c.toMap()));
        Map<String, Tensor> sd = new DiT(c, 3).stateDict();
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("model", "SiT-S/2");
        args.put("image_size", 64L);
        args.put("num_classes", 4L);
        args.put("path_type", "Linear");
        args.put("prediction", "velocity");
        args.put("loss_weight", null);
        args.put("sample_eps", null);
        args.put("train_eps", null);
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("model", new LinkedHashMap<>(sd));
        tree.put("ema", new LinkedHashMap<>(sd));
        tree.put("opt", new LinkedHashMap<>());
        tree.put("args", args);
        Path file = tmp.resolve("0001000.pt");
        TorchCheckpointWriter.write(file, tree);
        return file;
    }

    @Test
    void sitCheckpointsSampleWithSitsDefaultsAndRefuseDdpmSamplers() throws Exception {
        Path config = tmp.resolve("tiny-dit.json"), ckpt = sitCheckpoint(config);
        Cli.Result r = Cli.run("sample", "--checkpoint", ckpt.toString(), "--config", config.toString(), "--per-class", "1",
                "--steps", "5", "--cfg-scale", "2", "--out", tmp.resolve("ode").toString());
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.out().contains("dopri5"), "SiT's default sampler: " + r.out());
        assertTrue(Files.size(tmp.resolve("ode/samples.npz")) > 0 && Files.size(tmp.resolve("ode/grid.png")) > 0);

        r = Cli.run("sample", "--checkpoint", ckpt.toString(), "--config", config.toString(), "--per-class", "1", "--sampler", "sde-euler",
                "--steps", "5", "--guidance-interval", "0.2,0.9", "--cfg-scale", "3", "--out", tmp.resolve("sde").toString());
        assertEquals(0, r.exitCode(), r.all());

        r = Cli.run("sample", "--checkpoint", ckpt.toString(), "--config", config.toString(), "--sampler", "ddim",
                "--out", tmp.resolve("x").toString());
        assertEquals(2, r.exitCode(), r.all());
        assertTrue(r.err().contains("--sampler") && r.err().contains("dopri5") && r.err().strip().lines().count() == 1, r.err());
    }

    @Test
    void ddpmCheckpointsRefuseFlowSamplers() throws Exception {
        DiTConfig c = new DiTConfig(8, 2, 4, 64, 2, 4, 4.0, 0.1, 4, true);
        Path config = tmp.resolve("tiny-dit.json"), weights = tmp.resolve("w.pt");
        Files.writeString(config, Json.write(c.toMap()));
        TorchCheckpointWriter.write(weights, new LinkedHashMap<>(new DiT(c, 3).stateDict()));
        Cli.Result r = Cli.run("sample", "--checkpoint", weights.toString(), "--config", config.toString(), "--sampler", "heun2",
                "--out", tmp.resolve("x").toString());
        assertEquals(2, r.exitCode(), r.all());
        assertTrue(r.err().contains("--sampler") && r.err().contains("DDPM") && r.err().contains("dpm++"), r.err());
    }
}
