package io.udit.transport;

import org.bytedeco.pytorch.Tensor;

/** The right-hand side dy/dt = f(t, y) of an ODE, with a scalar time (as torchdiffeq's {@code func(t, y)}). */
@FunctionalInterface
public interface VectorField {
    Tensor apply(double t, Tensor y);

    /** A model's field at a shared time: {@code model(y, [t] * B)}, as SiT's ODE sampler evaluates its drift. */
    static VectorField of(FlowModel model) {
        return (t, y) -> model.apply(y, Ts.times(y, t));
    }

    /** torchdiffeq's {@code _ReverseFunc}: -f(-t, y), which turns a decreasing time grid into an increasing one. */
    default VectorField reversed() {
        return (t, y) -> apply(-t, y).neg();
    }
}
