package io.udit.model;

import org.bytedeco.pytorch.Tensor;

/**
 * Observes a forward pass through the module hooks (see Hooks): receives the named outputs of hooked modules
 * (names follow the reference's module paths) and times the profile sections.
 */
@FunctionalInterface
public interface Probe {
    Probe NONE = (name, value) -> {};

    void record(String name, Tensor value);

    /** Runs one profile section of the forward pass; a profiling probe times it (see SectionTimer). */
    default <T> T time(String section, java.util.function.Supplier<T> op) {
        return op.get();
    }

    /** A probe that stores every value in {@code into}, kept alive past the forward pass's inner scopes. */
    static Probe collect(java.util.Map<String, Tensor> into) {
        return (name, value) -> into.put(name, io.udit.engine.NativeScopes.escape(value));
    }
}
