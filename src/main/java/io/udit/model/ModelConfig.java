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

    /** A builder holding every field of this config: the one way to a changed copy. */
    Builder toBuilder();

    /** The fields both families share, by name; {@link #build} validates the result. */
    interface Builder {
        Builder inputSize(int v);

        Builder inChannels(int v);

        Builder numClasses(int v);

        Builder learnSigma(boolean v);

        Builder classDropoutProb(double v);

        ModelConfig build();
    }

    default ModelConfig withInputSize(int v) {
        return toBuilder().inputSize(v).build();
    }

    default ModelConfig withInChannels(int v) {
        return toBuilder().inChannels(v).build();
    }

    default ModelConfig withNumClasses(int v) {
        return toBuilder().numClasses(v).build();
    }

    default ModelConfig withLearnSigma(boolean v) {
        return toBuilder().learnSigma(v).build();
    }

    default ModelConfig withClassDropoutProb(double v) {
        return toBuilder().classDropoutProb(v).build();
    }

    /** The configuration in the reference's argument names, plus "family"; {@link ModelConfigs#fromMap} reads it back. */
    Map<String, Object> toMap();

    /** Builds a freshly initialised network of this configuration. */
    Backbone build(long seed);
}
