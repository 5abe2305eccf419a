package io.udit.cli;

import io.udit.engine.Engine;
import io.udit.vae.AutoencoderKLConfig;
import io.udit.vae.Vae;
import io.udit.vae.VaeException;
import io.udit.vae.VaeWeights;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** Writes a diffusers VAE folder with random weights: for trying the latent pipeline and benchmarks without downloads. */
@Command(name = "vae-init", mixinStandardHelpOptions = true,
        description = "Write a diffusers AutoencoderKL folder (config.json + weights) with RANDOM weights, to try the latent pipeline "
                + "(encode -> train -> sample --vae) or measure speed without downloading a VAE. Its images mean nothing.",
        footer = {"", "Examples:", "  udit vae-init --out-dir vae-tiny",
                "  udit vae-init --out-dir vae-sd --sd   (the released sd-vae-ft-ema shapes, random weights)"})
public final class VaeInitCommand implements Callable<Integer> {
    @Option(names = "--out-dir", paramLabel = "DIR", description = "Required: the folder to create (must not hold a VAE already).")
    Path out;

    @Option(names = "--out", hidden = true, paramLabel = "DIR", description = "Old name of --out-dir.")
    void out(Path dir) {
        out = dir;
    }

    @Option(names = "--block-out-channels", split = ",", defaultValue = "32,64", paramLabel = "C",
            description = "Encoder widths (default ${DEFAULT-VALUE}: images / 2; sd-vae-ft-ema: 128,256,512,512).")
    List<Integer> blockOutChannels;

    @Option(names = "--layers-per-block", defaultValue = "1", paramLabel = "N",
            description = "ResNet layers per encoder block (default ${DEFAULT-VALUE}; sd-vae-ft-ema: 2).")
    int layersPerBlock;

    @Option(names = "--groups", defaultValue = "8", paramLabel = "N", description = "GroupNorm groups (default ${DEFAULT-VALUE}; sd-vae-ft-ema: 32).")
    int groups;

    @Option(names = "--sample-size", defaultValue = "32", paramLabel = "N", description = "Image size recorded in the config (default ${DEFAULT-VALUE}).")
    int sampleSize;

    @Option(names = "--sd", description = "The released sd-vae-ft-ema architecture (83.7M parameters) instead of the options above.")
    boolean sd;

    @Option(names = "--format", defaultValue = "safetensors", paramLabel = "safetensors|bin", description = "Weight file (default ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--legacy-names", description = "Name the attention weights query/key/value/proj_attn (older diffusers files).")
    boolean legacyNames;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Seed of the random weights (default ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws Exception {
        if (out == null) throw new UserError("missing --out-dir DIR (the folder to create)");
        io.udit.engine.FileKinds.requireFolderOrMissing(out, "--out-dir");
        Checks.inRange("--layers-per-block", layersPerBlock, 1, 16);
        Checks.inRange("--groups", groups, 1, 1024);
        Checks.inRange("--sample-size", sampleSize, 1, 8192);
        for (int ch : blockOutChannels) Checks.inRange("--block-out-channels", ch, 1, 4096);
        Engine.init();
        if (!format.equals("safetensors") && !format.equals("bin")) throw new UserError("--format must be safetensors or bin");
        if (Files.exists(out.resolve("config.json"))) throw new UserError(out + " already holds a config.json; choose a new folder");
        AutoencoderKLConfig c;
        try {
            c = sd ? AutoencoderKLConfig.sdVae() : AutoencoderKLConfig.small(blockOutChannels, layersPerBlock, groups, sampleSize);
        } catch (VaeException e) {
            throw new UserError(e.getMessage(), e);
        }
        Vae v = Vae.random(c, seed);
        Path w = v.save(out, format.equals("safetensors"), legacyNames ? VaeWeights.Naming.LEGACY : VaeWeights.Naming.CURRENT);
        System.out.printf("wrote %s and %s: %s, %d parameters (random)%n", out.resolve("config.json").toAbsolutePath(), w.toAbsolutePath(), v.describe(),
                v.model().parameterCount());
        return 0;
    }
}
