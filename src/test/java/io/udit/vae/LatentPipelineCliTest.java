package io.udit.vae;

import io.udit.data.LatentFolder;
import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.io.Json;
import io.udit.io.Npy;
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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** encode -> train (on features, and on images through the VAE) -> sample --vae -> decode, all from the CLI, small. */
class LatentPipelineCliTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void init() {
        Engine.init();
    }

    static long count(Path dir, String glob) throws Exception {
        try (var s = Files.newDirectoryStream(dir, glob)) {
            long n = 0;
            for (Path ignored : s) n++;
            return n;
        }
    }

    @Test
    void imagesToFeaturesToModelToPng() throws Exception {
        Path vae = VaeTestData.vaeFolder(tmp.resolve("vae"), true, VaeWeights.Naming.CURRENT);
        Path images = VaeTestData.imageFolder(tmp.resolve("images"), 2, 5, 40, 36);
        Path feats = tmp.resolve("features");

        Cli.Result r = Cli.run("encode", "--images", images.toString(), "--vae", vae.toString(), "--out", feats.toString(),
                "--resolution", "32", "--batch", "3");
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.out().contains("encoded 10 entries (10 written now, 0 already done)"), r.out());
        Path fdir = feats.resolve("imagenet32_features"), ldir = feats.resolve("imagenet32_labels");
        assertEquals(10, count(fdir, "*.npy"));
        assertEquals(10, count(ldir, "*.npy"));
        Tensor f0 = Npy.read(fdir.resolve("0.npy")), l7 = Npy.read(ldir.resolve("7.npy"));
        assertArrayEquals(new long[] {1, 4, 16, 16}, Tensors.shape(f0));
        assertTrue(Tensors.isType(f0, ScalarType.Float));
        assertArrayEquals(new long[] {1}, Tensors.shape(l7));
        assertTrue(Tensors.isType(l7, ScalarType.Long));
        assertEquals(1, Tensors.toLongs(l7)[0], "images 5..9 are class1");
        Map<String, Object> m = Json.parseObject(Files.readString(feats.resolve("manifest.json")));
        assertEquals(Boolean.TRUE, m.get("complete"));
        assertEquals(10L, m.get("entries"));
        assertEquals("diffusion_pytorch_model.safetensors", ((Map<?, ?>) m.get("vae")).get("weights"));
        LatentFolder lf = LatentFolder.open(feats, 0, false);
        assertEquals(10, lf.size());
        assertEquals(2, lf.numClasses());

        // the feature is the scaled posterior sample of the centre-cropped image: same as encoding it here
        Vae v = Vae.load(vae);
        float[] img = new float[3 * 32 * 32];
        new io.udit.data.ImageFolder(images, 32, false, true, false).read(0, img, null);
        Tensor again = v.encode(Tensors.floats(img, 1, 3, 32, 32), new long[] {io.udit.data.Seeds.item(0, 0x4E4F4953L, 0)});
        assertEquals(0.0, Tensors.maxAbsDiff(again, f0), 1e-5);

        // resume: an entry whose label was lost, and a temp file of an interrupted write, are redone / removed
        Tensor before = Npy.read(fdir.resolve("4.npy"));
        Files.delete(ldir.resolve("4.npy"));
        Files.write(fdir.resolve(".4.npy.123.tmp"), new byte[] {1, 2, 3});
        r = Cli.run("encode", "--images", images.toString(), "--vae", vae.toString(), "--out", feats.toString(),
                "--resolution", "32", "--batch", "4");
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.out().contains("(1 written now, 9 already done)"), r.out());
        assertEquals(0.0, Tensors.maxAbsDiff(before, Npy.read(fdir.resolve("4.npy"))), 1e-5, "same latent whatever the batch");
        assertEquals(0, count(fdir, ".*.tmp"));
        r = Cli.run("encode", "--images", images.toString(), "--vae", vae.toString(), "--out", feats.toString(),
                "--resolution", "32", "--seed", "1");
        assertEquals(2, r.exitCode(), r.all());
        assertTrue(r.err().contains("other settings: seed (was 0, now 1)"), r.err());

        // --flip both: entries N + i hold the mirrored images
        Path both = tmp.resolve("both");
        r = Cli.run("encode", "--images", images.toString(), "--vae", vae.toString(), "--out", both.toString(),
                "--resolution", "32", "--flip", "both");
        assertEquals(0, r.exitCode(), r.all());
        assertEquals(20, count(both.resolve("imagenet32_features"), "*.npy"));
        FeatureExtraction.flipHorizontally(img, 3, 32);
        Tensor flipped = v.encode(Tensors.floats(img, 1, 3, 32, 32), new long[] {io.udit.data.Seeds.item(0, 0x4E4F4953L, 10)});
        assertEquals(0.0, Tensors.maxAbsDiff(flipped, Npy.read(both.resolve("imagenet32_features/10.npy"))), 1e-5);

        // train on the features, and on the images through the VAE
        Path cfg = VaeTestData.udtConfig(tmp, 2);
        Path run = tmp.resolve("run");
        r = Cli.run("train", "--data", feats.toString(), "--config", cfg.toString(), "--run-dir", run.toString(),
                "--steps", "3", "--batch", "4", "--checkpoint-every", "3", "--sample-every", "0", "--log-every", "1");
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.err().contains("latent folder"), r.err());
        Path ckpt = run.resolve("checkpoints/step_0000003.pt");
        assertTrue(Files.exists(ckpt));
        Path run2 = tmp.resolve("run-vae");
        r = Cli.run("train", "--data", images.toString(), "--vae", vae.toString(), "--resolution", "32", "--config", cfg.toString(),
                "--run-dir", run2.toString(), "--steps", "2", "--batch", "4", "--checkpoint-every", "2", "--sample-every", "2",
                "--preview-steps", "2", "--preview-per-class", "1", "--log-every", "1");
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.err().contains("encoded on the fly"), r.err());
        assertTrue(Files.exists(run2.resolve("checkpoints/step_0000002.pt")));
        assertTrue(Files.exists(run2.resolve("samples/latest.png")));
        // previews of such a run show decoded 32x32 pictures, not the latents shown as colours
        io.udit.data.Dataset encoded = new EncodedImages(io.udit.data.Datasets.open(images.toString(),
                new io.udit.data.Datasets.Options().resolution(32)), Vae.load(vae));
        Tensor pixels = io.udit.train.Trainer.previewPixels(encoded).apply(
                org.bytedeco.pytorch.global.torch.randn(1, encoded.channels(), encoded.resolution(), encoded.resolution()));
        assertEquals("[1, 32, 32, 3]", Tensors.shapeString(pixels));

        // sample through the decoder
        Path out = tmp.resolve("samples");
        r = Cli.run("sample", "--checkpoint", ckpt.toString(), "--vae", vae.toString(), "--per-class", "2", "--sampler", "ddim",
                "--steps", "3", "--batch", "3", "--decode-batch", "3", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.all());
        Map<String, Tensor> s = Npz.read(out.resolve("samples.npz"));
        assertEquals("[4, 32, 32, 3]", Tensors.shapeString(s.get("arr_0")));
        assertTrue(Tensors.isType(s.get("arr_0"), ScalarType.Byte));
        assertEquals("[0, 0, 1, 1]", java.util.Arrays.toString(Tensors.toLongs(s.get("arr_1"))));
        assertTrue(Files.size(out.resolve("grid.png")) > 100);

        // decode the features back to images
        Path dec = tmp.resolve("decoded");
        r = Cli.run("decode", "--latents", feats.toString(), "--vae", vae.toString(), "--out", dec.toString(), "--limit", "6");
        assertEquals(0, r.exitCode(), r.all());
        Map<String, Tensor> d = Npz.read(dec.resolve("images.npz"));
        assertEquals("[6, 32, 32, 3]", Tensors.shapeString(d.get("arr_0")));
        assertFalse(r.all().contains("internal error"));
    }
}
