package io.udit.vae;

import io.udit.io.CheckpointFormatException;
import io.udit.io.Safetensors;
import io.udit.io.TorchCheckpoint;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * A diffusers VAE folder: {@code config.json} plus {@code diffusion_pytorch_model.safetensors} (preferred) or
 * {@code diffusion_pytorch_model.bin} (a torch.save zip, read without running code). A Stable Diffusion pipeline
 * folder whose {@code vae/} sub-folder holds these is accepted too. Every problem is a {@link VaeException} naming
 * the folder or file.
 */
public final class VaeFolder {
    private VaeFolder() {}

    public static final String CONFIG = "config.json";
    public static final String SAFETENSORS = "diffusion_pytorch_model.safetensors";
    public static final String BIN = "diffusion_pytorch_model.bin";

    /** Where the config and the weights of a VAE folder are. */
    public record Located(Path folder, Path config, Path weights) {}

    /** Finds the files, or explains what is missing. */
    public static Located locate(Path dir) {
        if (dir == null) throw new VaeException("no VAE folder given");
        if (!Files.exists(dir)) throw new VaeException("VAE folder " + dir + " does not exist");
        if (!Files.isDirectory(dir))
            throw new VaeException("--vae wants a folder holding " + CONFIG + " and " + SAFETENSORS + " (or " + BIN + "); "
                    + dir + " is a file");
        Path folder = dir;
        if (!Files.exists(dir.resolve(CONFIG)) && Files.isRegularFile(dir.resolve("vae").resolve(CONFIG))) folder = dir.resolve("vae");
        Path config = folder.resolve(CONFIG);
        Path st = folder.resolve(SAFETENSORS), bin = folder.resolve(BIN);
        Path weights = Files.isRegularFile(st) ? st : Files.isRegularFile(bin) ? bin : null;
        if (!Files.isRegularFile(config) || weights == null) {
            List<String> lacks = new ArrayList<>();
            if (!Files.isRegularFile(config)) lacks.add(CONFIG);
            if (weights == null) lacks.add(SAFETENSORS + " or " + BIN);
            throw new VaeException("VAE folder " + folder + " lacks " + String.join(" and ", lacks) + " (it holds: "
                    + listing(folder) + "). A diffusers VAE folder, e.g. stabilityai/sd-vae-ft-ema, has both.");
        }
        return new Located(folder, config, weights);
    }

    /** Reads the config and the weights and builds the model. */
    public static Vae load(Path dir) {
        Located f = locate(dir);
        AutoencoderKLConfig config = AutoencoderKLConfig.read(f.config());
        LinkedHashMap<String, Tensor> sd;
        try {
            sd = f.weights().getFileName().toString().endsWith(".safetensors") ? Safetensors.read(f.weights())
                    : TorchCheckpoint.readStateDict(f.weights(), null);
        } catch (CheckpointFormatException e) {
            throw new VaeException(e.getMessage(), e);
        } catch (IOException e) {
            throw new VaeException(f.weights() + ": cannot read: " + e.getMessage(), e);
        }
        AutoencoderKL model = io.udit.engine.NativeScopes.outsideScopes(() -> new AutoencoderKL(config));
        VaeWeights.Naming naming = VaeWeights.load(model, sd, f.weights().toString());
        return new Vae(model, f.folder(), f.weights(), naming);
    }

    private static String listing(Path dir) {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (names.size() == 10) {
                    names.add("...");
                    break;
                }
                names.add(p.getFileName().toString());
            }
        } catch (IOException e) {
            return "unreadable: " + e.getMessage();
        }
        names.sort(null);
        return names.isEmpty() ? "nothing" : String.join(", ", names);
    }
}
