package io.udit.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * U-DiT configuration, mirroring the reference U_DiT constructor. The ablation switches of the paper's component
 * ladder are fields: token downsampling (downFactor 1 = full attention, the "DiT-UNet" variant), the downsampler
 * (depthwise conv kernel, 0 = pixel-unshuffle only, with or without shortcut), attention (plain or cosine),
 * position (none or RoPE2D) and FFN (basic, depthwise, re-parameterisable).
 *
 * <p>{@code pixelUnshuffle} (our extension, config key "pixel_unshuffle", default 1 = off) folds u x u pixel blocks
 * into channels before the network and unfolds its output after: the network runs on a (input_size / u)^2 grid of
 * in_channels * u^2 channels, like a patch embedding, while the diffusion still sees input_size^2 images of
 * in_channels channels. The state-dict keys stay the reference's; only the embedding and output convs' channel
 * counts change. It makes pixel-space models at small sizes ~3.5x cheaper (the demo's).
 */
public record UDiTConfig(
        int inputSize,
        int inChannels,
        int hiddenSize,
        int numHeads,
        List<Integer> depth,
        double mlpRatio,
        int numClasses,
        boolean learnSigma,
        double classDropoutProb,
        FfnType ffn,
        AttentionType attention,
        PositionType position,
        int downsamplerKernel,
        boolean downShortcut,
        List<Integer> downFactor,
        int pixelUnshuffle) implements ModelConfig {

    /** FFN variants: "basic" (MLP, tanh GELU), "dwconv" (1x1, GELU, depthwise 5x5, 1x1), "rep" (re-parameterisable). */
    public enum FfnType { BASIC, DWCONV, REP }

    /** "plain" softmax(q k^T / sqrt(d)) or "cosine" (the reference's attn_type "v2"). */
    public enum AttentionType { PLAIN, COSINE }

    public enum PositionType { NONE, ROPE2D }

    public UDiTConfig {
        depth = List.copyOf(depth);
        downFactor = List.copyOf(downFactor);
        validate(inputSize, inChannels, hiddenSize, numHeads, depth, mlpRatio, numClasses, classDropoutProb,
                ffn, position, downsamplerKernel, downFactor, pixelUnshuffle);
    }

    /** The reference's configuration space (no pixel unshuffle). */
    public UDiTConfig(int inputSize, int inChannels, int hiddenSize, int numHeads, List<Integer> depth, double mlpRatio,
                      int numClasses, boolean learnSigma, double classDropoutProb, FfnType ffn, AttentionType attention,
                      PositionType position, int downsamplerKernel, boolean downShortcut, List<Integer> downFactor) {
        this(inputSize, inChannels, hiddenSize, numHeads, depth, mlpRatio, numClasses, learnSigma, classDropoutProb, ffn,
                attention, position, downsamplerKernel, downShortcut, downFactor, 1);
    }

    private static void validate(int inputSize, int inChannels, int hiddenSize, int numHeads, List<Integer> depth,
                                 double mlpRatio, int numClasses, double classDropoutProb, FfnType ffn,
                                 PositionType position, int kernel, List<Integer> downFactor, int unshuffle) {
        List<String> problems = new ArrayList<>();
        ConfigBounds.range(problems, "input_size", inputSize, 1, ConfigBounds.MAX_INPUT_SIZE);
        ConfigBounds.range(problems, "in_channels", inChannels, 1, ConfigBounds.MAX_CHANNELS);
        ConfigBounds.range(problems, "hidden_size", hiddenSize, 2, ConfigBounds.MAX_HIDDEN);
        ConfigBounds.range(problems, "num_heads", numHeads, 1, ConfigBounds.MAX_HEADS);
        ConfigBounds.range(problems, "num_classes", numClasses, 1, ConfigBounds.MAX_CLASSES);
        if (!problems.isEmpty()) throw new IllegalArgumentException("invalid U-DiT config: " + String.join("; ", problems));
        if (hiddenSize % 2 != 0) problems.add("hidden_size must be even");
        if (hiddenSize % numHeads != 0) problems.add("hidden_size must be divisible by num_heads");
        if (!(classDropoutProb >= 0 && classDropoutProb < 1)) problems.add("class_dropout_prob must be in [0, 1)");
        if (depth.size() != 5 || depth.stream().anyMatch(d -> d < 0 || d > ConfigBounds.MAX_LEVEL_DEPTH)) {
            problems.add("depth must list 5 block counts in 0.." + ConfigBounds.MAX_LEVEL_DEPTH
                    + " (encoder 1, encoder 2, latent, decoder 2, decoder 1)");
        }
        if (downFactor.size() != 5 || downFactor.stream().anyMatch(f -> f < 1 || f > ConfigBounds.MAX_DOWN_FACTOR)) {
            problems.add("down_factor must be an int in 1.." + ConfigBounds.MAX_DOWN_FACTOR + " or a list of 5");
        }
        if (unshuffle < 1 || unshuffle > 16) problems.add("pixel_unshuffle must be in 1..16, got " + unshuffle);
        else if (inputSize <= 0 || inputSize % (4 * unshuffle) != 0) {
            problems.add(unshuffle == 1 ? "input_size must be a positive multiple of 4"
                    : "input_size must be a positive multiple of 4 x pixel_unshuffle = " + 4 * unshuffle);
        }
        if (kernel < 0 || kernel > ConfigBounds.MAX_KERNEL || (kernel > 0 && kernel % 2 == 0)) {
            problems.add("downsampler kernel must be odd and at most " + ConfigBounds.MAX_KERNEL + " (dwconv3, dwconv5, ...) or none, got " + kernel);
        }
        ConfigBounds.ratio(problems, mlpRatio);
        int hidden = (int) (hiddenSize * mlpRatio);
        if (problems.isEmpty() && hidden <= 0) problems.add("mlp_ratio x hidden_size must be at least 1");
        if (ffn == FfnType.REP && hidden % 2 != 0) problems.add("the rep FFN needs an even hidden width");
        if (problems.isEmpty()) {
            int grid = inputSize / unshuffle;
            int[] res = {grid, grid / 2, grid / 4, grid / 2, grid};
            int[] width = {hiddenSize, 2 * hiddenSize, 4 * hiddenSize, 2 * hiddenSize, 2 * hiddenSize};
            for (int level = 0; level < 5; level++) {
                int f = downFactor.get(level);
                if (res[level] % f != 0) {
                    problems.add("level " + (level + 1) + " resolution " + res[level] + " is not divisible by down_factor " + f);
                }
                int headDim = width[level] / numHeads;
                if (position == PositionType.ROPE2D && headDim % 4 != 0) {
                    problems.add("rope2d needs a head dim divisible by 4 (level " + (level + 1) + " has " + headDim + ")");
                }
            }
        }
        if (!problems.isEmpty()) throw new IllegalArgumentException("invalid U-DiT config: " + String.join("; ", problems));
    }

    /** The paper's S/B/L recipe at width D with h heads (32x32x4 latents, 1000 classes, learned sigma). */
    public static UDiTConfig named(int hiddenSize, int numHeads) {
        return new UDiTConfig(32, 4, hiddenSize, numHeads, List.of(2, 5, 8, 5, 2), 2.0, 1000, true, 0.1,
                FfnType.REP, AttentionType.COSINE, PositionType.ROPE2D, 5, true, List.of(2, 2, 2, 2, 2));
    }

    @Override
    public String family() {
        return "udit";
    }

    /** Width of level i (0-based: enc1, enc2, latent, dec2, dec1); the level-1 decoder stays at 2D. */
    public int width(int level) {
        return switch (level) {
            case 0 -> hiddenSize;
            case 1, 3, 4 -> 2 * hiddenSize;
            case 2 -> 4 * hiddenSize;
            default -> throw new IllegalArgumentException("level " + level);
        };
    }

    /** Side of the network's level-1 grid: input_size / pixel_unshuffle. */
    public int gridSize() {
        return inputSize / pixelUnshuffle;
    }

    /** Channels the network's embedding conv sees: in_channels x pixel_unshuffle^2. */
    public int gridInChannels() {
        return inChannels * pixelUnshuffle * pixelUnshuffle;
    }

    /** Channels of the network's final conv, before the output is unfolded into pixels. */
    public int gridOutChannels() {
        return outChannels() * pixelUnshuffle * pixelUnshuffle;
    }

    /** Spatial resolution of level i. */
    public int resolution(int level) {
        int grid = gridSize();
        return switch (level) {
            case 0, 4 -> grid;
            case 1, 3 -> grid / 2;
            case 2 -> grid / 4;
            default -> throw new IllegalArgumentException("level " + level);
        };
    }

    public int ffnHidden(int width) {
        return (int) (width * mlpRatio);
    }

    @Override
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Changes fields of a {@link UDiTConfig} by name; {@link #build} validates the result. */
    public static final class Builder extends ConfigBuilder<UDiTConfig, Builder> {
        private Integer hiddenSize, numHeads, downsamplerKernel, pixelUnshuffle;
        private List<Integer> depth, downFactor;
        private Double mlpRatio;
        private Boolean downShortcut;
        private FfnType ffn;
        private AttentionType attention;
        private PositionType position;

        private Builder(UDiTConfig from) {
            super(from);
        }

        /** Width and heads together (the head size follows). */
        public Builder hidden(int width, int heads) { hiddenSize = width; numHeads = heads; return this; }
        public Builder depth(List<Integer> v) { depth = v; return this; }
        public Builder mlpRatio(double v) { mlpRatio = v; return this; }
        public Builder ffn(FfnType v) { ffn = v; return this; }
        public Builder attention(AttentionType v) { attention = v; return this; }
        public Builder position(PositionType v) { position = v; return this; }
        /** The down-sampler: depthwise kernel size (0 = pixel-unshuffle only) and whether it has a shortcut. */
        public Builder downsampler(int kernel, boolean shortcut) { downsamplerKernel = kernel; downShortcut = shortcut; return this; }
        public Builder downFactor(List<Integer> v) { downFactor = v; return this; }
        public Builder pixelUnshuffle(int v) { pixelUnshuffle = v; return this; }

        @Override
        public UDiTConfig build() {
            return new UDiTConfig(or(inputSize, from.inputSize), or(inChannels, from.inChannels), or(hiddenSize, from.hiddenSize),
                    or(numHeads, from.numHeads), or(depth, from.depth), or(mlpRatio, from.mlpRatio), or(numClasses, from.numClasses),
                    or(learnSigma, from.learnSigma), or(classDropoutProb, from.classDropoutProb), or(ffn, from.ffn),
                    or(attention, from.attention), or(position, from.position), or(downsamplerKernel, from.downsamplerKernel),
                    or(downShortcut, from.downShortcut), or(downFactor, from.downFactor), or(pixelUnshuffle, from.pixelUnshuffle));
        }
    }

    /** The reference's downsampler string: "dwconvK", or "none" for pixel-unshuffle only (our extension). */
    public String downsamplerName() {
        return downsamplerKernel == 0 ? "none" : "dwconv" + downsamplerKernel;
    }

    @Override
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("family", "udit");
        m.put("input_size", inputSize);
        m.put("in_channels", inChannels);
        m.put("hidden_size", hiddenSize);
        m.put("num_heads", numHeads);
        m.put("depth", depth);
        m.put("mlp_ratio", mlpRatio);
        m.put("num_classes", numClasses);
        m.put("learn_sigma", learnSigma);
        m.put("class_dropout_prob", classDropoutProb);
        m.put("rep", ffn == FfnType.REP ? 1 : 0);
        m.put("ffn_type", ffn == FfnType.BASIC ? "basic" : "rep");
        m.put("attn_type", attention == AttentionType.COSINE ? "v2" : null);
        m.put("posemb_type", position == PositionType.ROPE2D ? "rope2d" : null);
        m.put("downsampler", downsamplerName());
        m.put("down_shortcut", downShortcut ? 1 : 0);
        boolean uniform = downFactor.stream().distinct().count() == 1;
        m.put("down_factor", uniform ? downFactor.get(0) : downFactor);
        if (pixelUnshuffle != 1) m.put("pixel_unshuffle", pixelUnshuffle); // our extension: absent = the reference
        return m;
    }

    @Override
    public Backbone build(long seed) {
        ConfigBounds.checkMemory(this);
        return new UDiT(this, seed);
    }
}
