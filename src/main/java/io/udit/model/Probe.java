package io.udit.model;

import org.bytedeco.pytorch.Tensor;

/** Receives named intermediate activations during a forward pass (names follow the reference's module paths). */
@FunctionalInterface
public interface Probe {
    Probe NONE = (name, value) -> {};

    void record(String name, Tensor value);

    /** A probe that stores every value in {@code into}, kept alive past the forward pass's inner scopes. */
    static Probe collect(java.util.Map<String, Tensor> into) {
        return (name, value) -> into.put(name, io.udit.engine.NativeScopes.escape(value));
    }

    default Probe child(String prefix) {
        if (this == NONE) return NONE;
        Probe parent = this;
        return (name, value) -> parent.record(prefix + "." + name, value);
    }
}
