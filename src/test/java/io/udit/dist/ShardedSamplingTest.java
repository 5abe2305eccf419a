package io.udit.dist;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.io.Npz;
import io.udit.testing.Cli;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sampling split over 2 processes writes the same .npz as 1 process, although the two cut the images into different
 * batches (3 per batch on one process, 4 per batch on each of two): an image depends on its seed, not on its batch.
 */
class ShardedSamplingTest {
    @TempDir
    Path tmp;

    @Test
    void oneAndTwoProcessesWriteIdenticalFiles() throws Exception {
        Engine.init();
        Path config = tmp.resolve("micro.json"), run = tmp.resolve("run");
        Files.writeString(config, "{\"input_size\": 16, \"in_channels\": 3, \"hidden_size\": 16, \"num_heads\": 2, \"depth\": [1, 1, 1, 1, 1],"
                + " \"mlp_ratio\": 2, \"num_classes\": 4, \"attn_type\": \"v2\", \"posemb_type\": \"rope2d\", \"downsampler\": \"dwconv5\","
                + " \"down_shortcut\": 1}");
        assertEquals(0, Cli.run("train", "--data", "synthetic:4", "--resolution", "16", "--config", config.toString(), "--run-dir",
                run.toString(), "--steps", "3", "--batch", "4", "--sample-every", "0").exitCode());
        String ckpt = run.resolve("checkpoints/step_0000003.pt").toString();
        String[] common = {"sample", "--checkpoint", ckpt, "--per-class", "5", "--sampler", "ddim", "--steps", "4", "--cfg-scale", "1.5",
                "--seed", "11"};
        Cli.Result one = Cli.run(concat(common, "--out", tmp.resolve("one").toString(), "--batch", "3"));
        assertEquals(0, one.exitCode(), one.all());
        Cli.Result two = Cli.run(concat(common, "--out", tmp.resolve("two").toString(), "--batch", "4", "--nproc-per-node", "2"));
        assertEquals(0, two.exitCode(), two.all());
        assertTrue(two.all().contains("2 processes"), two.all());
        Map<String, Tensor> a = Npz.read(tmp.resolve("one/samples.npz")), b = Npz.read(tmp.resolve("two/samples.npz"));
        assertEquals("[20, 16, 16, 3]", Tensors.shapeString(b.get("arr_0")));
        assertEquals(0.0, Tensors.maxAbsDiff(a.get("arr_0"), b.get("arr_0")), "images");
        assertEquals(0.0, Tensors.maxAbsDiff(a.get("arr_1"), b.get("arr_1")), "labels");
        assertFalse(Files.exists(tmp.resolve("two/.parts")), "parts cleaned up");
    }

    static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
