package io.udit.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** DiT configuration (facebookresearch/DiT's DiT constructor). */
public record DiTConfig(
        int inputSize,
        int patchSize,
        int inChannels,
        int hiddenSize,
        int depth,
        int numHeads,
        double mlpRatio,
        double classDropoutProb,
        int numClasses,
        boolean learnSigma) implements ModelConfig {

    public DiTConfig {
        List<String> problems = new ArrayList<>();
        ConfigBounds.range(problems, "input_size", inputSize, 1, ConfigBounds.MAX_INPUT_SIZE);
        ConfigBounds.range(problems, "patch_size", patchSize, 1, Math.max(1, inputSize));
        ConfigBounds.range(problems, "in_channels", inChannels, 1, ConfigBounds.MAX_CHANNELS);
        ConfigBounds.range(problems, "hidden_size", hiddenSize, 4, ConfigBounds.MAX_HIDDEN);
        ConfigBounds.range(problems, "num_heads", numHeads, 1, ConfigBounds.MAX_HEADS);
        ConfigBounds.range(problems, "depth", depth, 0, ConfigBounds.MAX_DIT_DEPTH);
        ConfigBounds.range(problems, "num_classes", numClasses, 1, ConfigBounds.MAX_CLASSES);
        ConfigBounds.ratio(problems, mlpRatio);
        if (!problems.isEmpty()) throw new IllegalArgumentException("invalid DiT config: " + String.join("; ", problems));
        if (inputSize % patchSize != 0) {
            problems.add("input_size must be a positive multiple of patch_size");
        }
        if (hiddenSize % numHeads != 0) problems.add("hidden_size must be divisible by num_heads");
        if (hiddenSize % 4 != 0) problems.add("hidden_size must be divisible by 4 (2-D sin-cos position table)");
        if (!(classDropoutProb >= 0 && classDropoutProb < 1)) problems.add("class_dropout_prob must be in [0, 1)");
        if ((int) (hiddenSize * mlpRatio) < 1) problems.add("mlp_ratio x hidden_size must be at least 1");
        if (!problems.isEmpty()) throw new IllegalArgumentException("invalid DiT config: " + String.join("; ", problems));
    }

    public static DiTConfig named(int depth, int hidden, int heads, int patch) {
        return new DiTConfig(32, patch, 4, hidden, depth, heads, 4.0, 0.1, 1000, true);
    }

    @Override
    public String family() {
        return "dit";
    }

    public int gridSize() {
        return inputSize / patchSize;
    }

    public int tokens() {
        return gridSize() * gridSize();
    }

    public int mlpHidden() {
        return (int) (hiddenSize * mlpRatio);
    }

    /** Changes fields of a {@link DiTConfig} by name; {@link #build} validates the result. */
    public static final class Builder extends ConfigBuilder<DiTConfig, Builder> {
        private Integer patchSize;

        private Builder(DiTConfig from) {
            super(from);
        }

        public Builder patchSize(int v) { patchSize = v; return this; }

        @Override
        public DiTConfig build() {
            return new DiTConfig(or(inputSize, from.inputSize), or(patchSize, from.patchSize), or(inChannels, from.inChannels),
                    from.hiddenSize, from.depth, from.numHeads, from.mlpRatio, or(classDropoutProb, from.classDropoutProb),
                    or(numClasses, from.numClasses), or(learnSigma, from.learnSigma));
        }
    }

    @Override
    public Builder toBuilder() {
        return new Builder(this);
    }

    @Override
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("family", "dit");
        m.put("input_size", inputSize);
        m.put("patch_size", patchSize);
        m.put("in_channels", inChannels);
        m.put("hidden_size", hiddenSize);
        m.put("depth", depth);
        m.put("num_heads", numHeads);
        m.put("mlp_ratio", mlpRatio);
        m.put("class_dropout_prob", classDropoutProb);
        m.put("num_classes", numClasses);
        m.put("learn_sigma", learnSigma);
        return m;
    }

    @Override
    public Backbone build(long seed) {
        ConfigBounds.checkMemory(this);
        return new DiT(this, seed);
    }
}
