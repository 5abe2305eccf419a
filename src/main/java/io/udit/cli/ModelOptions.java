package io.udit.cli;

import io.udit.io.Json;
import io.udit.model.ConfigBounds;
import io.udit.model.ModelConfig;
import io.udit.model.ModelConfigs;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** --model NAME | --config FILE, plus the overrides every named config accepts. */
public final class ModelOptions {
    @Option(names = "--model", paramLabel = "NAME",
            description = "A named model: U-DiT-S, U-DiT-B, U-DiT-L, DiT-S/2 ... DiT-XL/8 (sizes S, B, L, XL; patches 2, 4, 8)."
                    + " Default: train fits U-DiT-S to the data, sample reads the checkpoint's config, info lists every model;"
                    + " forward and bench need --model or --config.")
    String model;

    @Option(names = "--config", paramLabel = "FILE",
            description = "A JSON model config (the reference constructor's argument names; \"model\" picks a named base);"
                    + " replaces --model (default: none).")
    Path config;

    @Option(names = "--input-size", paramLabel = "N", description = "Override: latent/image side length (default: the config's).")
    Integer inputSize;

    @Option(names = "--in-channels", paramLabel = "C", description = "Override: input channels (default: the config's).")
    Integer inChannels;

    @Option(names = "--num-classes", paramLabel = "K", description = "Override: number of classes (default: the config's).")
    Integer numClasses;

    @Option(names = "--learn-sigma", paramLabel = "BOOL", arity = "1", description = "Override: learned variance, true or false (default: the config's).")
    Boolean learnSigma;

    public boolean isSet() {
        return model != null || config != null;
    }

    /** Range checks of the overrides, naming each option (the config's own bounds, see {@link ConfigBounds}). */
    void checkOverrides() {
        Checks.inRange("--input-size", inputSize, 1, ConfigBounds.MAX_INPUT_SIZE);
        Checks.inRange("--in-channels", inChannels, 1, ConfigBounds.MAX_CHANNELS);
        Checks.inRange("--num-classes", numClasses, 1, ConfigBounds.MAX_CLASSES);
    }

    /**
     * For a config fixed by a checkpoint: overrides are refused unless they agree with it (a different size or class
     * count cannot apply to weights trained for the recorded one).
     */
    public void requireAgreement(ModelConfig fixed, String source) {
        checkOverrides();
        agree("--input-size", inputSize, fixed.inputSize(), source);
        agree("--in-channels", inChannels, fixed.inChannels(), source);
        agree("--num-classes", numClasses, fixed.numClasses(), source);
        if (learnSigma != null && learnSigma != fixed.learnSigma()) {
            throw new UserError("--learn-sigma " + learnSigma + " cannot apply: " + source + " fixes learn_sigma = " + fixed.learnSigma());
        }
    }

    private static void agree(String option, Integer given, int fixed, String source) {
        if (given != null && given != fixed) {
            throw new UserError(option + " " + given + " cannot apply: " + source + " fixes it at " + fixed
                    + " (leave the option out, or give --model/--config to override the whole config)");
        }
    }

    /** The configuration the flags describe; null when neither --model nor --config was given. */
    public ModelConfig resolveOrNull() {
        if (model != null && config != null) throw new UserError("give either --model or --config, not both");
        checkOverrides();
        ModelConfig c;
        try {
            if (model != null) {
                c = ModelConfigs.named(model);
            } else if (config != null) {
                c = readConfig(config);
            } else {
                return null;
            }
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage(), e);
        }
        return withOverrides(c);
    }

    public ModelConfig resolve() {
        ModelConfig c = resolveOrNull();
        if (c == null) throw new UserError("missing --model NAME or --config FILE; valid names: " + String.join(", ", ModelConfigs.names()));
        return c;
    }

    static final int MAX_CONFIG_BYTES = 1 << 20;

    public static ModelConfig readConfig(Path file) {
        Map<String, Object> map = readJson(file, "--config");
        try {
            return ModelConfigs.fromMap(map);
        } catch (IllegalArgumentException e) {
            throw new UserError(file + ": " + e.getMessage(), e);
        }
    }

    /** A JSON object from a config file given by {@code option} (a regular file of at most 1 MB). */
    public static Map<String, Object> readJson(Path file, String option) {
        Checks.regularFile(option, file);
        String text;
        try (InputStream in = Files.newInputStream(file)) {
            byte[] b = in.readNBytes(MAX_CONFIG_BYTES + 1);
            if (b.length > MAX_CONFIG_BYTES) throw new UserError(option + " " + file + ": config file larger than 1 MB");
            text = new String(b, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UserError("cannot read config " + file + ": " + e.getMessage(), e);
        }
        try {
            return Json.parseObject(text);
        } catch (IllegalArgumentException e) {
            throw new UserError(file + ": " + e.getMessage(), e);
        }
    }

    /** {@code c} with the --input-size, --in-channels, --num-classes and --learn-sigma overrides applied. */
    public ModelConfig withOverrides(ModelConfig c) {
        try {
            if (inputSize != null) c = c.withInputSize(inputSize);
            if (inChannels != null) c = c.withInChannels(inChannels);
            if (numClasses != null) c = c.withNumClasses(numClasses);
            if (learnSigma != null) c = c.withLearnSigma(learnSigma);
            return c;
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage(), e);
        }
    }
}
