package io.udit.model;

import java.util.Map;

/** A network configuration: U-DiT or DiT. Field names in {@link #toMap()} are the reference constructors' own. */
public sealed interface ModelConfig permits UDiTConfig, DiTConfig {
    String family();

    int inputSize();

    int inChannels();

    int numClasses();

    boolean learnSigma();

    double classDropoutProb();

    default int outChannels() {
        return learnSigma() ? 2 * inChannels() : inChannels();
    }

    /** Whether the label tables carry the extra "null class" row used for classifier-free guidance. */
    default boolean hasNullClass() {
        return classDropoutProb() > 0;
    }

    /** The label id that means "no class" (only valid when {@link #hasNullClass()}). */
    default int nullClass() {
        return numClasses();
    }

    ModelConfig withInputSize(int inputSize);

    ModelConfig withInChannels(int inChannels);

    ModelConfig withNumClasses(int numClasses);

    ModelConfig withLearnSigma(boolean learnSigma);

    ModelConfig withClassDropoutProb(double p);

    /** The configuration in the reference's argument names, plus "family"; {@link ModelConfigs#fromMap} reads it back. */
    Map<String, Object> toMap();

    /** Builds a freshly initialised network of this configuration. */
    Backbone build(long seed);
}
