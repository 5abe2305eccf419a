package io.udit.cli;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.io.Npz;
import io.udit.testing.Cli;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** udit train and udit sample end to end on a tiny model. */
class TrainSampleCliTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void init() {
        Engine.init();
    }

    Path microConfig() throws Exception {
        Path p = tmp.resolve("micro.json");
        Files.writeString(p, "{\"input_size\": 16, \"in_channels\": 3, \"hidden_size\": 16, \"num_heads\": 2, \"depth\": [1, 1, 1, 1, 1],"
                + " \"mlp_ratio\": 2, \"num_classes\": 4, \"attn_type\": \"v2\", \"posemb_type\": \"rope2d\", \"downsampler\": \"dwconv5\","
                + " \"down_shortcut\": 1}");
        return p;
    }

    @Test
    void trainThenSampleDeterministically() throws Exception {
        Path run = tmp.resolve("run");
        Cli.Result r = Cli.run("train", "--data", "synthetic:4", "--resolution", "16", "--config", microConfig().toString(),
                "--run-dir", run.toString(), "--steps", "4", "--batch", "4", "--checkpoint-every", "2", "--sample-every", "4",
                "--preview-steps", "3", "--log-every", "2");
        assertEquals(0, r.exitCode(), r.all());
        for (String f : new String[] {"config.json", "log.jsonl", "loss.png", "samples/latest.png", "checkpoints/step_0000004.pt"}) {
            assertTrue(Files.exists(run.resolve(f)), f);
        }
        Path ckpt = run.resolve("checkpoints/step_0000004.pt");
        Path out1 = tmp.resolve("s1"), out2 = tmp.resolve("s2"), out3 = tmp.resolve("s3");
        String[] common = {"sample", "--checkpoint", ckpt.toString(), "--per-class", "2", "--sampler", "ddim", "--steps", "3",
                "--cfg-scale", "2", "--batch", "3"};
        assertEquals(0, Cli.run(concat(common, "--out", out1.toString(), "--seed", "5")).exitCode());
        assertEquals(0, Cli.run(concat(common, "--out", out2.toString(), "--seed", "5")).exitCode());
        assertEquals(0, Cli.run(concat(common, "--out", out3.toString(), "--seed", "6")).exitCode());
        Map<String, Tensor> a = Npz.read(out1.resolve("samples.npz")), b = Npz.read(out2.resolve("samples.npz")),
                c = Npz.read(out3.resolve("samples.npz"));
        assertEquals("[8, 16, 16, 3]", Tensors.shapeString(a.get("arr_0")));
        assertTrue(Tensors.isType(a.get("arr_0"), ScalarType.Byte));
        assertEquals("[0, 0, 1, 1, 2, 2, 3, 3]", java.util.Arrays.toString(Tensors.toLongs(a.get("arr_1"))));
        assertEquals(0.0, Tensors.maxAbsDiff(a.get("arr_0"), b.get("arr_0")), "same seed, same images");
        assertNotEquals(0.0, Tensors.maxAbsDiff(a.get("arr_0"), c.get("arr_0")), "another seed, other images");
        assertTrue(Files.size(out1.resolve("grid.png")) > 100);
    }

    @Test
    void badTrainingInputsExitWith2() throws Exception {
        Cli.Result r = Cli.run("train", "--data", "no-such-folder-xyz", "--run-dir", tmp.resolve("x").toString(), "--steps", "1");
        assertEquals(2, r.exitCode(), r.all());
        r = Cli.run("train", "--data", "synthetic:4", "--resolution", "16", "--config", microConfig().toString(),
                "--run-dir", tmp.resolve("y").toString(), "--steps", "1", "--batch", "6", "--micro-batch", "4");
        assertEquals(2, r.exitCode(), r.all());
        assertTrue(r.err().contains("multiple"), r.err());
        r = Cli.run("sample", "--checkpoint", tmp.resolve("missing.pt").toString());
        assertEquals(2, r.exitCode(), r.all());
    }

    static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
