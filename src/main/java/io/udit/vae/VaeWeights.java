package io.udit.vae;

import io.udit.engine.Tensors;
import io.udit.io.Json;
import io.udit.io.Safetensors;
import io.udit.io.TorchCheckpointWriter;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * State dicts of AutoencoderKL: the two attention namings, strict loading, and writing diffusers folders.
 *
 * <p>Published files name the mid-block attention projections either {@code to_q, to_k, to_v, to_out.0} (current
 * diffusers) or {@code query, key, value, proj_attn} (files exported by diffusers before 0.14, e.g. sd-vae-ft-ema's
 * {@code .bin}); the projection weights may be stored as linear (C, C) or 1x1 conv (C, C, 1, 1) tensors. Both are
 * mapped onto the model's names and shapes; then every model key must be present exactly once with its shape, and
 * nothing else may be in the file.
 */
public final class VaeWeights {
    private VaeWeights() {}

    /** The attention key namings. */
    public enum Naming { CURRENT, LEGACY }

    private static final Pattern LEGACY_KEY = Pattern.compile("^(.*\\.attentions\\.\\d+\\.)(query|key|value|proj_attn)\\.(weight|bias)$");
    private static final Pattern CURRENT_KEY = Pattern.compile("^(.*\\.attentions\\.\\d+\\.)(to_q|to_k|to_v|to_out\\.0)\\.(weight|bias)$");
    private static final Map<String, String> TO_CURRENT = Map.of("query", "to_q", "key", "to_k", "value", "to_v", "proj_attn", "to_out.0");
    private static final Map<String, String> TO_LEGACY = Map.of("to_q", "query", "to_k", "key", "to_v", "value", "to_out.0", "proj_attn");

    /** The key in the current naming (keys outside the attention projections are returned unchanged). */
    public static String toCurrent(String key) {
        Matcher m = LEGACY_KEY.matcher(key);
        return m.matches() ? m.group(1) + TO_CURRENT.get(m.group(2)) + "." + m.group(3) : key;
    }

    /** The key in the legacy naming. */
    public static String toLegacy(String key) {
        Matcher m = CURRENT_KEY.matcher(key);
        return m.matches() ? m.group(1) + TO_LEGACY.get(m.group(2)) + "." + m.group(3) : key;
    }

    /** A copy of the state dict under the given naming (tensors shared). */
    public static LinkedHashMap<String, Tensor> renamed(Map<String, Tensor> sd, Naming naming) {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : sd.entrySet())
            out.put(naming == Naming.LEGACY ? toLegacy(e.getKey()) : toCurrent(e.getKey()), e.getValue());
        return out;
    }

    /**
     * Copies the weights of a file's state dict into the model, after mapping the namings and the conv-shaped
     * attention weights. {@code source} names the file in messages. Returns the naming the file used.
     *
     * @throws VaeException naming every missing, unexpected, duplicated, wrongly shaped or non-float key
     */
    public static Naming load(AutoencoderKL model, Map<String, Tensor> file, String source) {
        LinkedHashMap<String, Tensor> own = model.stateDict();
        LinkedHashMap<String, Tensor> mapped = new LinkedHashMap<>();
        LinkedHashMap<String, String> originalName = new LinkedHashMap<>();
        List<String> duplicated = new ArrayList<>(), missing = new ArrayList<>(), unexpected = new ArrayList<>(),
                wrongShape = new ArrayList<>(), wrongType = new ArrayList<>();
        boolean sawLegacy = false, sawCurrent = false;
        for (Map.Entry<String, Tensor> e : file.entrySet()) {
            String k = e.getKey(), nk = toCurrent(k);
            if (!nk.equals(k)) sawLegacy = true;
            else if (CURRENT_KEY.matcher(k).matches()) sawCurrent = true;
            if (mapped.containsKey(nk)) {
                duplicated.add(originalName.get(nk) + " and " + k);
                continue;
            }
            mapped.put(nk, e.getValue());
            originalName.put(nk, k);
        }
        for (Map.Entry<String, Tensor> e : own.entrySet()) {
            String k = e.getKey();
            Tensor src = mapped.get(k);
            if (src == null) {
                missing.add(k);
                continue;
            }
            long[] want = Tensors.shape(e.getValue()), have = Tensors.shape(src);
            if (want.length == 2 && have.length == 4 && have[2] == 1 && have[3] == 1 && have[0] == want[0] && have[1] == want[1]
                    && CURRENT_KEY.matcher(k).matches()) {
                src = src.reshape(want); // a 1x1 conv export of a linear projection
                mapped.put(k, src);
                have = want;
            }
            if (!Arrays.equals(want, have)) {
                wrongShape.add(originalName.get(k) + " (file " + Arrays.toString(have) + ", model " + Arrays.toString(want) + ")");
            } else if (!src.is_floating_point()) {
                wrongType.add(originalName.get(k) + " (" + src.scalar_type().intern() + ")");
            }
        }
        for (String k : mapped.keySet()) if (!own.containsKey(k)) unexpected.add(originalName.get(k));
        if (!missing.isEmpty() || !unexpected.isEmpty() || !wrongShape.isEmpty() || !wrongType.isEmpty() || !duplicated.isEmpty()) {
            StringBuilder sb = new StringBuilder(source + " does not match the AutoencoderKL of its config (block_out_channels "
                    + model.config().blockOutChannels() + ", layers_per_block " + model.config().layersPerBlock()
                    + ", latent_channels " + model.config().latentChannels() + "):");
            list(sb, "missing keys", missing);
            list(sb, "unexpected keys", unexpected);
            list(sb, "wrong shapes", wrongShape);
            list(sb, "not floating point", wrongType);
            list(sb, "given in both attention namings", duplicated);
            String hint = hint(file.keySet());
            if (hint != null) sb.append("\n  ").append(hint);
            throw new VaeException(sb.toString());
        }
        try (NoGradGuard g = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : own.entrySet()) {
                Tensor src = mapped.get(e.getKey());
                e.getValue().copy_(Tensors.isType(src, ScalarType.Float) ? src : src.to(ScalarType.Float));
            }
        }
        return sawLegacy && !sawCurrent ? Naming.LEGACY : Naming.CURRENT;
    }

    private static void list(StringBuilder sb, String what, List<String> keys) {
        if (keys.isEmpty()) return;
        sb.append("\n  ").append(what).append(" (").append(keys.size()).append("): ").append(String.join(", ", keys));
    }

    private static String hint(Iterable<String> keys) {
        int ldm = 0, prefixed = 0;
        for (String k : keys) {
            if (k.startsWith("first_stage_model.")) prefixed++;
            if (k.startsWith("encoder.down.") || k.startsWith("decoder.up.") || k.contains(".mid.attn_1.")) ldm++;
        }
        if (prefixed > 0) return "the keys start with first_stage_model.: this is a whole Stable Diffusion checkpoint, not a diffusers VAE folder";
        if (ldm > 0) return "the keys look like an original CompVis/LDM checkpoint (encoder.down.N.block...): convert it to the diffusers layout first";
        return null;
    }

    /**
     * Writes a diffusers VAE folder: {@code config.json} and the weights as {@code diffusion_pytorch_model.safetensors}
     * or (torch zip) {@code diffusion_pytorch_model.bin}, in the given naming.
     */
    public static Path save(AutoencoderKL model, Path dir, boolean safetensors, Naming naming) throws IOException {
        Files.createDirectories(dir);
        io.udit.io.AtomicFiles.write(dir.resolve(VaeFolder.CONFIG),
                Json.writePretty(model.config().toMap()).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        LinkedHashMap<String, Tensor> sd = renamed(model.stateDict(), naming);
        Path file = dir.resolve(safetensors ? VaeFolder.SAFETENSORS : VaeFolder.BIN);
        if (safetensors) Safetensors.write(file, sd, Map.of("format", "pt"));
        else TorchCheckpointWriter.write(file, new LinkedHashMap<>(sd));
        return file;
    }
}
