package io.udit.cli;

import io.udit.engine.Engine;
import io.udit.report.ProgressBar;
import io.udit.vae.FeatureExtraction;
import io.udit.vae.Vae;
import io.udit.vae.VaeException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** Encodes an image folder into VAE latent features (fast-DiT's extract_features.py layout). */
@Command(name = "encode", mixinStandardHelpOptions = true,
        description = {"Encode an image folder with a diffusers VAE into latent features: <out>/imagenet<R>_features/<i>.npy "
                + "(scaled posterior sample, float32 (1, 4, R/8, R/8)) and <out>/imagenet<R>_labels/<i>.npy (int64 (1,)), "
                + "plus manifest.json. Resumable: rerun the same command to continue."},
        footer = {"", "Examples:", "  udit encode --images imagenet/train --vae sd-vae-ft-ema --out-dir features",
                "  udit encode --images imagenet/train --vae sd-vae-ft-ema --out-dir features --flip both",
                "  udit train --data features --model U-DiT-B   (then train on the latents)"})
public final class EncodeCommand implements Callable<Integer> {
    @Option(names = "--images", required = true, paramLabel = "DIR",
            description = "Image folder: class sub-folders (ImageNet layout) or a flat folder (one class).")
    Path images;

    @Option(names = "--vae", required = true, paramLabel = "DIR",
            description = "diffusers VAE folder (config.json + diffusion_pytorch_model.safetensors or .bin), e.g. sd-vae-ft-ema.")
    Path vae;

    @Option(names = "--out-dir", paramLabel = "DIR", description = "Required: the output folder (created; reused to resume).")
    Path out;

    @Option(names = "--out", hidden = true, paramLabel = "DIR", description = "Old name of --out-dir.")
    void out(Path dir) {
        out = dir;
    }

    @Option(names = "--resolution", defaultValue = "256", paramLabel = "N", description = "ADM centre-crop size (default ${DEFAULT-VALUE}).")
    int resolution;

    @Option(names = "--flip", arity = "0..1", fallbackValue = "random", defaultValue = "none", paramLabel = "none|random|both",
            description = {"none (default); random: flip each image with probability 1/2 before encoding, one latent per image, "
                    + "as fast-DiT's extract_features.py (also what a bare --flip means); both: also store the flipped image's "
                    + "latent as entry N + i."})
    String flip;

    @Option(names = "--batch", defaultValue = "4", paramLabel = "N", description = "Images per encoder call (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Seed of the posterior noise and random flips (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--skip-non-images", description = "Skip files without an image extension (default: refuse the folder, naming them).")
    boolean skipNonImages;

    @Option(names = "--allow-upscale", description = "Enlarge images smaller than the crop, as ADM does (default: refuse them).")
    boolean allowUpscale;

    @Override
    public Integer call() throws Exception {
        if (out == null) throw new UserError("missing --out-dir DIR (the folder the features go to)");
        io.udit.engine.FileKinds.requireFolderOrMissing(out, "--out-dir");
        Checks.inRange("--resolution", resolution, 1, 4096);
        Checks.inRange("--batch", batch, 1, 4096);
        if (!java.nio.file.Files.isDirectory(images)) {
            String kind = io.udit.engine.FileKinds.describe(images);
            throw new UserError("--images " + images + (kind.equals("missing") ? " does not exist" : " is " + kind + ", not a folder of images"));
        }
        Engine.init();
        FeatureExtraction.Flip mode;
        try {
            mode = FeatureExtraction.Flip.valueOf(flip.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UserError("--flip must be none, random or both, got " + flip);
        }
        FeatureExtraction.Options o;
        try {
            o = new FeatureExtraction.Options(images, out, resolution, mode, batch, seed, skipNonImages, allowUpscale, 1);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage(), e);
        }
        Vae v = VaeFolders.load(vae);
        System.err.println("vae: " + v.describe());
        long t0 = System.nanoTime();
        FeatureExtraction.Result r;
        ProgressBar[] bar = {null};
        try {
            r = FeatureExtraction.run(v, o, (done, total) -> {
                if (bar[0] == null) bar[0] = new ProgressBar("encode", total, done); // rates count this run's images only
                bar[0].update(done);
            });
        } catch (VaeException e) {
            throw new UserError(e.getMessage(), e);
        } finally {
            if (bar[0] != null) bar[0].close();
        }
        System.out.printf("encoded %d entries (%d written now, %d already done) in %.1f s into %s and %s; manifest %s%n",
                r.entries(), r.written(), r.alreadyDone(), (System.nanoTime() - t0) / 1e9, r.featuresDir().toAbsolutePath(), r.labelsDir().toAbsolutePath(), r.manifest().toAbsolutePath());
        return 0;
    }
}
