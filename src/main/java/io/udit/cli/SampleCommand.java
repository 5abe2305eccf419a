package io.udit.cli;

import io.udit.api.ModelFiles;
import io.udit.diffusion.ClassifierFreeGuidance;
import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.io.AtomicFiles;
import io.udit.io.Npz;
import io.udit.model.ModelConfig;
import io.udit.report.ImageGrid;
import io.udit.report.ProgressBar;
import io.udit.sample.Previews;
import io.udit.sample.SampleRequest;
import io.udit.sample.Sampling;
import org.bytedeco.pytorch.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** Samples images from a checkpoint: a PNG grid and an ADM-style .npz (arr_0 uint8 NHWC, arr_1 labels). */
@Command(name = "sample", mixinStandardHelpOptions = true,
        description = "Sample from a checkpoint (ours or the reference's) into a PNG grid and an ADM-style .npz.")
public final class SampleCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, paramLabel = "FILE", description = "Checkpoint or weights file.")
    Path checkpoint;

    @Option(names = "--key", paramLabel = "ema|model", description = "Weights of a training checkpoint (default: ema).")
    String key;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--classes", split = ",", paramLabel = "C", description = "Class ids to sample (default: every class).")
    List<Long> classes;

    @Option(names = "--per-class", defaultValue = "8", description = "Images per class (default ${DEFAULT-VALUE}).")
    int perClass;

    @Option(names = "--sampler", defaultValue = "dpm++", description = "ddpm, ddim or dpm++ (default ${DEFAULT-VALUE}).")
    String sampler;

    @Option(names = "--steps", description = "Sampler steps (default: 250 ddpm, 50 ddim, 25 dpm++).")
    Integer steps;

    @Option(names = "--eta", defaultValue = "0", description = "DDIM eta (default ${DEFAULT-VALUE}).")
    double eta;

    @Option(names = "--cfg-scale", defaultValue = "1.0", description = "Classifier-free guidance scale (1 = none).")
    double cfgScale;

    @Option(names = "--cfg-mode", defaultValue = "standard",
            description = "standard (all latent channels) or reference (channels 0-2, as U-DiT/DiT's forward_with_cfg).")
    String cfgMode;

    @Option(names = "--seed", defaultValue = "0") long seed;

    @Option(names = "--noise-schedule", description = "linear or cosine (default: what the checkpoint recorded, else linear).")
    String schedule;

    @Option(names = "--batch", defaultValue = "32", description = "Images per sampler batch.") int batch;

    @Option(names = "--clip", arity = "1", description = "Clip predicted x0 to [-1, 1] (default: true for pixel models, false for 4-channel latent models).")
    Boolean clip;

    @Option(names = "--out", defaultValue = "samples", paramLabel = "DIR", description = "Output folder (grid.png, samples.npz).")
    Path out;

    @Mixin
    DecodeOptions decodeOptions;

    @Override
    public Integer call() throws Exception {
        Engine.init();
        ModelFiles.Loaded loaded;
        try {
            loaded = ModelFiles.load(checkpoint, key, modelOptions.resolveOrNull());
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage(), e);
        }
        ModelConfig c = loaded.config();
        io.udit.vae.Vae vae = decodeOptions.loadVae();
        if (vae != null && vae.config().latentChannels() != c.inChannels())
            throw new UserError("the model makes latents of " + c.inChannels() + " channels but the VAE " + decodeOptions.vae
                    + " decodes " + vae.config().latentChannels());
        List<Long> cls = classes != null ? classes : range(c.numClasses());
        long[] labels = new long[cls.size() * perClass];
        for (int i = 0; i < cls.size(); i++) for (int j = 0; j < perClass; j++) labels[i * perClass + j] = cls.get(i);
        int s = steps != null ? steps : switch (sampler) { case "ddpm" -> 250; case "ddim" -> 50; default -> 25; };
        ClassifierFreeGuidance.Mode mode = switch (cfgMode) {
            case "standard" -> ClassifierFreeGuidance.Mode.STANDARD;
            case "reference" -> ClassifierFreeGuidance.Mode.REFERENCE;
            default -> throw new UserError("--cfg-mode must be standard or reference");
        };
        boolean doClip = clip != null ? clip : c.inChannels() != 4;
        SampleRequest req;
        try {
            req = new SampleRequest(labels, sampler, s, cfgScale, mode, seed, 0, doClip, eta, batch,
                    schedule != null ? schedule : loaded.noiseSchedule());
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage(), e);
        }
        Files.createDirectories(out);
        long t0 = System.nanoTime();
        Tensor images;
        try (ProgressBar bar = new ProgressBar("sample", labels.length)) {
            images = Sampling.generate(loaded.model(), req, (done, total, step, stepsTotal) -> {
                bar.set("step", step + "/" + stepsTotal).update(done);
            });
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage(), e);
        }
        Tensor u8 = vae != null ? decodeOptions.decodeToUint8(vae, images, "samples") : null;
        double secs = (System.nanoTime() - t0) / 1e9;
        Path grid = out.resolve("grid.png");
        AtomicFiles.write(grid, u8 != null ? DecodeOptions.gridPng(u8, perClass)
                : ImageGrid.png(Previews.gridOf(images, perClass, Previews.zoomFor(c.inputSize()))));
        Map<String, Tensor> arrays = new LinkedHashMap<>();
        arrays.put("arr_0", u8 != null ? u8 : Sampling.toUint8Nhwc(images));
        arrays.put("arr_1", Tensors.longs(labels, labels.length));
        Path npz = out.resolve("samples.npz");
        Npz.write(npz, arrays);
        System.out.printf("wrote %s and %s: %d images in %.1f s (%s, %d steps, cfg %.2f %s)%n", grid, npz, labels.length, secs,
                sampler, s, cfgScale, cfgMode);
        return 0;
    }

    private static List<Long> range(int n) {
        List<Long> out = new ArrayList<>();
        for (long i = 0; i < n; i++) out.add(i);
        return out;
    }
}
