package io.udit.cli;

import io.udit.report.ProgressBar;
import io.udit.vae.Vae;
import io.udit.vae.VaeException;
import org.bytedeco.pytorch.Tensor;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** --vae and the decoding options shared by 'sample' and 'decode'. */
public final class DecodeOptions {
    @Option(names = "--vae", paramLabel = "DIR",
            description = "diffusers VAE folder (config.json + diffusion_pytorch_model.safetensors or .bin): decode latents to images "
                    + "(latents / scaling_factor, decode, then uint8 as clamp(127.5 x + 128)). Default: none; sample then writes the model's"
                    + " output as the images, decode needs one.")
    Path vae;

    @Option(names = "--decode-batch", defaultValue = "0", paramLabel = "N",
            description = "Latents per decoder call (0 = as many as fit --decode-memory; default ${DEFAULT-VALUE}).")
    int decodeBatch;

    @Option(names = "--decode-memory", defaultValue = "2048", paramLabel = "MB",
            description = "Activation memory budget of one decoder call in MB (default ${DEFAULT-VALUE}).")
    long decodeMemoryMb;

    @Option(names = "--tile", defaultValue = "-1", paramLabel = "LATENTS",
            description = "Decode in overlapping tiles of this many latents a side (0 = never; default -1: only latents too large for the budget).")
    int tile;

    @Option(names = "--tile-overlap", defaultValue = "-1", paramLabel = "LATENTS",
            description = "Overlap of neighbouring tiles in latents, blended linearly (default: a quarter of the tile).")
    int tileOverlap;

    /** Limits of the decoding options, checked before any work. */
    void check() {
        Checks.inRange("--decode-batch", decodeBatch, 0, 65_536);
        Checks.inRange("--decode-memory", decodeMemoryMb, 1, 1L << 24);
        Checks.inRange("--tile", tile, -1, 4096);
        Checks.inRange("--tile-overlap", tileOverlap, -1, 4096);
    }

    /** The VAE, or null without --vae; problems are user errors. */
    Vae loadVae() {
        return vae == null ? null : VaeFolders.load(vae);
    }

    Vae.DecodeOptions options() {
        try {
            return new Vae.DecodeOptions(decodeBatch, tile, tileOverlap, Math.multiplyExact(decodeMemoryMb, 1L << 20));
        } catch (VaeException | ArithmeticException e) {
            throw new UserError(e.getMessage(), e);
        }
    }

    /** Decodes scaled latents to uint8 NHWC images (clamp(127.5 x + 128)) with a progress bar. */
    Tensor decodeToUint8(Vae v, Tensor latents, String source) {
        Vae.DecodeOptions o = options();
        try (ProgressBar bar = new ProgressBar("decode", latents.size(0))) {
            return v.decodeToUint8(latents, o, (done, total) -> bar.update(done));
        } catch (VaeException e) {
            throw new UserError(source + ": " + e.getMessage(), e);
        }
    }

    /** As {@link #decodeToUint8} without a progress bar (ranks of a sharded run). */
    Tensor decodeToUint8Quietly(Vae v, Tensor latents, String source) {
        try {
            return v.decodeToUint8(latents, options(), Vae.Progress.NONE);
        } catch (VaeException e) {
            throw new UserError(source + ": " + e.getMessage(), e);
        }
    }
}
