package io.udit.transport;

import io.udit.diffusion.DenoiserFn;
import org.bytedeco.pytorch.Tensor;

/**
 * The network as the transport sees it: {@code (x, t) -> output}, where x is (B, ...) and t holds the B per-sample
 * SiT times in [0, 1] (t = 0 noise, t = 1 data) in x's dtype. The output has x's shape and is read as a velocity,
 * noise or score according to the {@link Prediction} of the {@link Transport}. Class labels and guidance are closed
 * over by the caller (see {@link #conditional}).
 */
@FunctionalInterface
public interface FlowModel {
    Tensor apply(Tensor x, Tensor t);

    /**
     * A labelled network {@code (x, t, y)} with its labels fixed: t is passed through as the float SiT time (not a
     * DDPM timestep). Wrap the network in {@link io.udit.diffusion.ClassifierFreeGuidance#guided} first for guidance.
     */
    static FlowModel conditional(DenoiserFn network, Tensor y) {
        return (x, t) -> network.apply(x, t, y);
    }
}
