package io.udit.model;

/**
 * A changed copy of a model config: the config it starts from and the fields set so far; {@code build()} takes every
 * other field from the start. Holds the fields both families share; each family's builder adds its own.
 */
abstract class ConfigBuilder<C extends ModelConfig, B extends ConfigBuilder<C, B>> implements ModelConfig.Builder {
    final C from;
    Integer inputSize, inChannels, numClasses;
    Boolean learnSigma;
    Double classDropoutProb;

    ConfigBuilder(C from) {
        this.from = from;
    }

    /** The value set on this builder, else the starting config's. */
    static <T> T or(T set, T start) {
        return set != null ? set : start;
    }

    @SuppressWarnings("unchecked")
    B self() {
        return (B) this;
    }

    @Override
    public B inputSize(int v) { inputSize = v; return self(); }

    @Override
    public B inChannels(int v) { inChannels = v; return self(); }

    @Override
    public B numClasses(int v) { numClasses = v; return self(); }

    @Override
    public B learnSigma(boolean v) { learnSigma = v; return self(); }

    @Override
    public B classDropoutProb(double v) { classDropoutProb = v; return self(); }
}
