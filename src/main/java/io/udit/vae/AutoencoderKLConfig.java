package io.udit.vae;

import io.udit.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The architecture of a diffusers {@code AutoencoderKL}, read from its {@code config.json} (the diffusers field names).
 * Only the KL autoencoder with {@code DownEncoderBlock2D} / {@code UpDecoderBlock2D} blocks, SiLU and group norm is
 * supported (every SD-1.x/2.x VAE, sd-vae-ft-ema/mse included); other values are refused with a message.
 *
 * @param blockOutChannels   widths of the encoder's down blocks (the decoder uses them reversed)
 * @param layersPerBlock     ResNet blocks per encoder block (decoder blocks have one more)
 * @param normNumGroups      groups of every GroupNorm (eps is 1e-6 everywhere)
 * @param sampleSize         image side the VAE was trained at (used as the default decode tile size)
 * @param scalingFactor      latents = scalingFactor * (z - shiftFactor)
 * @param shiftFactor        0 for the SD VAEs ({@code null} in their configs)
 * @param useQuantConv       the 1x1 {@code quant_conv} after the encoder (default true)
 * @param usePostQuantConv   the 1x1 {@code post_quant_conv} before the decoder (default true)
 * @param midBlockAttention  the mid blocks have their attention layer (default true)
 */
public record AutoencoderKLConfig(int inChannels, int outChannels, int latentChannels, List<Integer> blockOutChannels,
                                  int layersPerBlock, int normNumGroups, int sampleSize, double scalingFactor,
                                  double shiftFactor, boolean useQuantConv, boolean usePostQuantConv,
                                  boolean midBlockAttention) {

    /** The SD VAE's scaling factor (diffusers' default when config.json has none). */
    public static final double SD_SCALING_FACTOR = 0.18215;

    public AutoencoderKLConfig {
        blockOutChannels = List.copyOf(blockOutChannels);
        List<String> problems = new ArrayList<>();
        if (inChannels < 1 || inChannels > 64) problems.add("in_channels must be 1..64, got " + inChannels);
        if (outChannels < 1 || outChannels > 64) problems.add("out_channels must be 1..64, got " + outChannels);
        if (latentChannels < 1 || latentChannels > 256) problems.add("latent_channels must be 1..256, got " + latentChannels);
        if (blockOutChannels.isEmpty() || blockOutChannels.size() > 8)
            problems.add("block_out_channels must list 1..8 widths, got " + blockOutChannels);
        if (layersPerBlock < 1 || layersPerBlock > 16) problems.add("layers_per_block must be 1..16, got " + layersPerBlock);
        if (normNumGroups < 1) problems.add("norm_num_groups must be positive, got " + normNumGroups);
        for (int c : blockOutChannels) {
            if (c < 1 || c > 8192) problems.add("block_out_channels holds " + c + " (1..8192 allowed)");
            else if (normNumGroups >= 1 && c % normNumGroups != 0)
                problems.add("block_out_channels value " + c + " is not divisible by norm_num_groups " + normNumGroups);
        }
        if (sampleSize < 1) problems.add("sample_size must be positive, got " + sampleSize);
        if (!(scalingFactor > 0) || !Double.isFinite(scalingFactor)) problems.add("scaling_factor must be positive, got " + scalingFactor);
        if (!Double.isFinite(shiftFactor)) problems.add("shift_factor must be finite, got " + shiftFactor);
        if (!problems.isEmpty()) throw new VaeException("invalid AutoencoderKL config: " + String.join("; ", problems));
    }

    /** The released sd-vae-ft-ema / sd-vae-ft-mse architecture. */
    public static AutoencoderKLConfig sdVae() {
        return new AutoencoderKLConfig(3, 3, 4, List.of(128, 256, 512, 512), 2, 32, 256, SD_SCALING_FACTOR, 0.0,
                true, true, true);
    }

    /** A small architecture of the same kind, for tests and demos. */
    public static AutoencoderKLConfig small(List<Integer> blockOutChannels, int layersPerBlock, int groups, int sampleSize) {
        return new AutoencoderKLConfig(3, 3, 4, blockOutChannels, layersPerBlock, groups, sampleSize, SD_SCALING_FACTOR,
                0.0, true, true, true);
    }

    /** Image side / latent side: 2^(levels - 1). */
    public int downsampleFactor() {
        return 1 << (blockOutChannels.size() - 1);
    }

    private static final Set<String> KNOWN = Set.of("_class_name", "_diffusers_version", "_name_or_path", "in_channels",
            "out_channels", "latent_channels", "block_out_channels", "layers_per_block", "norm_num_groups", "sample_size",
            "scaling_factor", "shift_factor", "act_fn", "down_block_types", "up_block_types", "force_upcast",
            "use_quant_conv", "use_post_quant_conv", "mid_block_add_attention", "latents_mean", "latents_std", "_use_default_values");

    /** Reads {@code config.json}; every problem is a {@link VaeException} naming the file. */
    public static AutoencoderKLConfig read(Path file) {
        String text;
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            throw new VaeException(file + " is " + io.udit.engine.FileKinds.describe(file) + ", not a regular file (a VAE config.json)");
        }
        try (java.io.InputStream in = Files.newInputStream(file)) {
            byte[] b = in.readNBytes((1 << 20) + 1); // bounded whatever size the file reports
            if (b.length > 1 << 20) throw new VaeException(file + ": larger than 1 MB, not a VAE config.json");
            text = new String(b, java.nio.charset.StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new VaeException(file + ": no such file (a diffusers VAE folder holds config.json and diffusion_pytorch_model.safetensors or .bin)");
        } catch (IOException e) {
            throw new VaeException(file + ": cannot read: " + e.getMessage(), e);
        }
        Map<String, Object> map;
        try {
            map = Json.parseObject(text);
        } catch (IllegalArgumentException e) {
            throw new VaeException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        try {
            return fromMap(map);
        } catch (VaeException e) {
            throw new VaeException(file + ": " + e.getMessage(), e);
        }
    }

    /** From the fields of a diffusers config (defaults as diffusers' AutoencoderKL constructor, scaling 0.18215). */
    public static AutoencoderKLConfig fromMap(Map<String, Object> m) {
        Object cls = m.get("_class_name");
        if (cls != null && !"AutoencoderKL".equals(cls))
            throw new VaeException("_class_name is " + cls + "; only AutoencoderKL is supported");
        List<String> unknown = new ArrayList<>();
        for (String k : m.keySet()) if (!KNOWN.contains(k)) unknown.add(k);
        if (!unknown.isEmpty()) // diffusers ignores unknown fields too; an architecture change would show in the weights
            System.getLogger("io.udit.vae").log(System.Logger.Level.WARNING, "VAE config: ignoring unknown field(s) " + unknown);
        String act = str(m, "act_fn", "silu");
        if (!act.equals("silu") && !act.equals("swish"))
            throw new VaeException("act_fn '" + act + "' is not supported (only silu)");
        List<Integer> boc = ints(m, "block_out_channels", List.of(64));
        checkTypes(m, "down_block_types", "DownEncoderBlock2D", boc.size());
        checkTypes(m, "up_block_types", "UpDecoderBlock2D", boc.size());
        Object shift = m.get("shift_factor");
        return new AutoencoderKLConfig(integer(m, "in_channels", 3), integer(m, "out_channels", 3),
                integer(m, "latent_channels", 4), boc, integer(m, "layers_per_block", 1),
                integer(m, "norm_num_groups", 32), integer(m, "sample_size", 32),
                number(m, "scaling_factor", SD_SCALING_FACTOR), shift == null ? 0.0 : number(m, "shift_factor", 0.0),
                bool(m, "use_quant_conv", true), bool(m, "use_post_quant_conv", true),
                bool(m, "mid_block_add_attention", true));
    }

    /** The config in diffusers' field names (what {@code config.json} holds). */
    public LinkedHashMap<String, Object> toMap() {
        LinkedHashMap<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", "AutoencoderKL");
        m.put("in_channels", (long) inChannels);
        m.put("out_channels", (long) outChannels);
        m.put("latent_channels", (long) latentChannels);
        List<Long> boc = new ArrayList<>();
        for (int c : blockOutChannels) boc.add((long) c);
        m.put("block_out_channels", boc);
        m.put("layers_per_block", (long) layersPerBlock);
        m.put("norm_num_groups", (long) normNumGroups);
        m.put("act_fn", "silu");
        m.put("down_block_types", java.util.Collections.nCopies(boc.size(), "DownEncoderBlock2D"));
        m.put("up_block_types", java.util.Collections.nCopies(boc.size(), "UpDecoderBlock2D"));
        m.put("sample_size", (long) sampleSize);
        m.put("scaling_factor", scalingFactor);
        if (shiftFactor != 0) m.put("shift_factor", shiftFactor);
        if (!useQuantConv) m.put("use_quant_conv", false);
        if (!usePostQuantConv) m.put("use_post_quant_conv", false);
        if (!midBlockAttention) m.put("mid_block_add_attention", false);
        return m;
    }

    private static void checkTypes(Map<String, Object> m, String key, String expected, int n) {
        Object v = m.get(key);
        if (v == null) return;
        if (!(v instanceof List<?> l)) throw new VaeException(key + " must be a list");
        if (l.size() != n)
            throw new VaeException(key + " lists " + l.size() + " blocks but block_out_channels has " + n);
        for (Object o : l) if (!expected.equals(o)) throw new VaeException(key + " holds " + o + "; only " + expected + " is supported");
    }

    private static int integer(Map<String, Object> m, String key, int def) {
        Object v = m.get(key);
        if (v == null) return def;
        if (v instanceof Long l && l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) return (int) (long) l;
        throw new VaeException(key + " must be an integer, got " + v);
    }

    private static double number(Map<String, Object> m, String key, double def) {
        Object v = m.get(key);
        if (v == null) return def;
        if (v instanceof Number n) return n.doubleValue();
        throw new VaeException(key + " must be a number, got " + v);
    }

    private static boolean bool(Map<String, Object> m, String key, boolean def) {
        Object v = m.get(key);
        if (v == null) return def;
        if (v instanceof Boolean b) return b;
        throw new VaeException(key + " must be true or false, got " + v);
    }

    private static String str(Map<String, Object> m, String key, String def) {
        Object v = m.get(key);
        if (v == null) return def;
        if (v instanceof String s) return s;
        throw new VaeException(key + " must be a string, got " + v);
    }

    private static List<Integer> ints(Map<String, Object> m, String key, List<Integer> def) {
        Object v = m.get(key);
        if (v == null) return def;
        if (!(v instanceof List<?> l)) throw new VaeException(key + " must be a list of integers, got " + v);
        List<Integer> out = new ArrayList<>();
        for (Object o : l) {
            if (!(o instanceof Long x) || x < 1 || x > Integer.MAX_VALUE) throw new VaeException(key + " must hold positive integers, got " + v);
            out.add((int) (long) x);
        }
        return out;
    }
}
