package io.udit.model;

import org.bytedeco.pytorch.Tensor;

/** Receives named intermediate activations during a forward pass (names follow the reference's module paths). */
@FunctionalInterface
public interface Probe {
    Probe NONE = (name, value) -> {};

    void record(String name, Tensor value);

    /** Runs one section of the forward pass; a profiling probe times it under {@code section} (see SectionTimer). */
    default <T> T time(String section, java.util.function.Supplier<T> op) {
        return op.get();
    }

    /** A probe that stores every value in {@code into}, kept alive past the forward pass's inner scopes. */
    static Probe collect(java.util.Map<String, Tensor> into) {
        return (name, value) -> into.put(name, io.udit.engine.NativeScopes.escape(value));
    }

    default Probe child(String prefix) {
        if (this == NONE) return NONE;
        Probe parent = this;
        return new Probe() {
            @Override
            public void record(String name, Tensor value) {
                parent.record(prefix + "." + name, value);
            }

            @Override
            public <T> T time(String section, java.util.function.Supplier<T> op) {
                return parent.time(section, op);
            }
        };
    }
}
