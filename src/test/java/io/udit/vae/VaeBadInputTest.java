package io.udit.vae;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.io.Npy;
import io.udit.testing.Cli;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad VAE folders, bad latents, bad image folders: a message naming the problem, exit code 2, no partial files. */
class VaeBadInputTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void init() {
        Engine.init();
    }

    Cli.Result encode(Path images, Path vae, Path out) {
        return Cli.run("encode", "--images", images.toString(), "--vae", vae.toString(), "--out", out.toString(),
                "--resolution", "32", "--batch", "2");
    }

    static void assertUserError(Cli.Result r, String... fragments) {
        assertEquals(2, r.exitCode(), r.all());
        assertFalse(r.err().contains("internal error"), r.err());
        for (String f : fragments) assertTrue(r.err().contains(f), "expected '" + f + "' in: " + r.err());
    }

    @Test
    void badVaeFolders() throws Exception {
        Path images = VaeTestData.imageFolder(tmp.resolve("images"), 1, 2, 32, 32);
        Path good = VaeTestData.vaeFolder(tmp.resolve("good"), true, VaeWeights.Naming.CURRENT);

        assertUserError(encode(images, tmp.resolve("nowhere"), tmp.resolve("f0")), "VAE folder", "nowhere", "does not exist");

        Path noWeights = Files.createDirectories(tmp.resolve("no-weights"));
        Files.copy(good.resolve("config.json"), noWeights.resolve("config.json"));
        assertUserError(encode(images, noWeights, tmp.resolve("f1")),
                "lacks diffusion_pytorch_model.safetensors or diffusion_pytorch_model.bin", "it holds: config.json");

        Path noConfig = Files.createDirectories(tmp.resolve("no-config"));
        Files.copy(good.resolve(VaeFolder.SAFETENSORS), noConfig.resolve(VaeFolder.SAFETENSORS));
        assertUserError(encode(images, noConfig, tmp.resolve("f2")), "lacks config.json");

        // weights of another architecture: every bad key is named
        Path mismatch = Files.createDirectories(tmp.resolve("mismatch"));
        Vae.random(AutoencoderKLConfig.small(List.of(16, 32), 1, 8, 32), 1).save(tmp.resolve("other"), true, VaeWeights.Naming.CURRENT);
        Files.copy(good.resolve("config.json"), mismatch.resolve("config.json"));
        Files.copy(tmp.resolve("other").resolve(VaeFolder.SAFETENSORS), mismatch.resolve(VaeFolder.SAFETENSORS));
        assertUserError(encode(images, mismatch, tmp.resolve("f3")), "does not match the AutoencoderKL of its config",
                "wrong shapes", "encoder.conv_in.weight (file [16, 3, 3, 3], model [32, 3, 3, 3])");

        // a truncated weight file
        Path truncated = Files.createDirectories(tmp.resolve("truncated"));
        Files.copy(good.resolve("config.json"), truncated.resolve("config.json"));
        byte[] w = Files.readAllBytes(good.resolve(VaeFolder.SAFETENSORS));
        Files.write(truncated.resolve(VaeFolder.SAFETENSORS), java.util.Arrays.copyOf(w, w.length / 2));
        assertUserError(encode(images, truncated, tmp.resolve("f4")), VaeFolder.SAFETENSORS, "truncated");

        // a bad config
        Path badConfig = Files.createDirectories(tmp.resolve("bad-config"));
        Files.copy(good.resolve(VaeFolder.SAFETENSORS), badConfig.resolve(VaeFolder.SAFETENSORS));
        Files.writeString(badConfig.resolve("config.json"), "{\"block_out_channels\": [30, 64], \"norm_num_groups\": 8}");
        assertUserError(encode(images, badConfig, tmp.resolve("f5")), "config.json", "30 is not divisible by norm_num_groups 8");
        Files.writeString(badConfig.resolve("config.json"), "{\"block_out_channels\": [32, 64], ");
        assertUserError(encode(images, badConfig, tmp.resolve("f6")), "config.json", "not valid JSON");

        // the legacy .bin of the same weights loads
        Path legacy = VaeTestData.vaeFolder(tmp.resolve("legacy"), false, VaeWeights.Naming.LEGACY);
        assertEquals(0, encode(images, legacy, tmp.resolve("f7")).exitCode());
    }

    @Test
    void badImageFoldersLeaveNoPartialFeatures() throws Exception {
        Path vae = VaeTestData.vaeFolder(tmp.resolve("vae"), true, VaeWeights.Naming.CURRENT);

        Path withText = VaeTestData.imageFolder(tmp.resolve("text"), 2, 2, 32, 32);
        Files.writeString(withText.resolve("class1").resolve("notes.txt"), "not an image");
        Path out = tmp.resolve("out-text");
        assertUserError(encode(withText, vae, out), "notes.txt", "is not an image file");
        assertFalse(Files.exists(out.resolve("imagenet32_features")) && Files.list(out.resolve("imagenet32_features")).findAny().isPresent());
        Cli.Result r = Cli.run("encode", "--images", withText.toString(), "--vae", vae.toString(), "--out", out.toString(),
                "--resolution", "32", "--skip-non-images");
        assertEquals(0, r.exitCode(), r.all());

        // a corrupt file with an image name in the middle: earlier batches complete, nothing of its batch written
        Path corrupt = VaeTestData.imageFolder(tmp.resolve("corrupt"), 1, 6, 32, 32);
        Files.writeString(corrupt.resolve("class0").resolve("3.png"), "this is text, not a PNG");
        Path out2 = tmp.resolve("out-corrupt");
        assertUserError(encode(corrupt, vae, out2), "3.png");
        Path f = out2.resolve("imagenet32_features"), l = out2.resolve("imagenet32_labels");
        List<String> feats = names(f), labels = names(l);
        assertEquals(List.of("0.npy", "1.npy"), feats, "batch 0 done, batch 1 (images 2 and 3) failed before writing");
        assertEquals(feats, labels);
        for (String n : feats) assertEquals("[1, 4, 16, 16]", Tensors.shapeString(Npy.read(f.resolve(n))));

        // an image smaller than the crop
        Path small = VaeTestData.imageFolder(tmp.resolve("small"), 1, 2, 24, 40);
        assertUserError(encode(small, vae, tmp.resolve("out-small")), "smaller than the 32x32 crop");
        assertEquals(0, Cli.run("encode", "--images", small.toString(), "--vae", vae.toString(), "--out",
                tmp.resolve("out-small2").toString(), "--resolution", "32", "--allow-upscale").exitCode());

        // a resolution the VAE cannot encode, bad flags
        assertUserError(Cli.run("encode", "--images", small.toString(), "--vae", vae.toString(), "--out", tmp.resolve("x").toString(),
                "--resolution", "33"), "not a multiple of the VAE's downsampling factor 2");
        assertUserError(Cli.run("encode", "--images", small.toString(), "--vae", vae.toString(), "--out", tmp.resolve("x").toString(),
                "--flip", "sideways"), "--flip must be none, random or both");
        assertUserError(Cli.run("encode", "--images", tmp.resolve("none").toString(), "--vae", vae.toString(), "--out",
                tmp.resolve("x").toString()), "does not exist");
    }

    static List<String> names(Path dir) throws Exception {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void latentsOfTheWrongShape() throws Exception {
        Path vae = VaeTestData.vaeFolder(tmp.resolve("vae"), true, VaeWeights.Naming.CURRENT);
        Path three = tmp.resolve("three.npy");
        Npy.write(three, torch.zeros(2, 3, 16, 16));
        assertUserError(Cli.run("decode", "--latents", three.toString(), "--vae", vae.toString(), "--out", tmp.resolve("d").toString()),
                "latents of shape [2, 3, 16, 16] do not fit the VAE, which decodes (N, 4, h, w)");
        Path flat = tmp.resolve("flat.npy");
        Npy.write(flat, torch.zeros(4, 16));
        assertUserError(Cli.run("decode", "--latents", flat.toString(), "--vae", vae.toString(), "--out", tmp.resolve("d").toString()),
                "latents of shape [4, 16] do not fit");
        Path ok = tmp.resolve("ok.npy");
        Npy.write(ok, torch.zeros(4, 8, 8));
        assertEquals(0, Cli.run("decode", "--latents", ok.toString(), "--vae", vae.toString(), "--out", tmp.resolve("d").toString()).exitCode());

        // a pixel-space (3-channel) model cannot be decoded by a 4-channel VAE
        Path cfg = tmp.resolve("rgb.json");
        Files.writeString(cfg, "{\"input_size\": 16, \"in_channels\": 3, \"hidden_size\": 16, \"num_heads\": 2, \"depth\": [1, 1, 1, 1, 1],"
                + " \"mlp_ratio\": 2, \"num_classes\": 2, \"attn_type\": \"v2\", \"posemb_type\": \"rope2d\", \"downsampler\": \"dwconv5\","
                + " \"down_shortcut\": 1}");
        Path run = tmp.resolve("run");
        assertEquals(0, Cli.run("train", "--data", "synthetic:2", "--resolution", "16", "--config", cfg.toString(), "--run-dir",
                run.toString(), "--steps", "1", "--batch", "2", "--sample-every", "0", "--checkpoint-every", "1").exitCode());
        assertUserError(Cli.run("sample", "--checkpoint", run.resolve("checkpoints/step_0000001.pt").toString(), "--vae", vae.toString(),
                "--per-class", "1", "--steps", "2", "--out", tmp.resolve("s").toString()),
                "the model makes latents of 3 channels but the VAE", "decodes 4");
        // --vae with data that are already latents
        assertUserError(Cli.run("sample", "--checkpoint", run.resolve("checkpoints/step_0000001.pt").toString(), "--vae",
                tmp.resolve("missing").toString(), "--out", tmp.resolve("s").toString()), "does not exist");
        assertUserError(Cli.run("decode", "--latents", ok.toString(), "--vae", vae.toString(), "--tile", "1"), "tile must be at least 2");
    }
}
