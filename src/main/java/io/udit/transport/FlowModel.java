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
     * DDPM timestep), as SiT feeds t in [0, 1] to DiT's timestep embedder. A network with learned variance (2C output
     * channels for C input channels) is cut to its first C channels, as SiT's model forward does with learn_sigma
     * ({@code x, _ = x.chunk(2, dim=1)}). Wrap the network in
     * {@link io.udit.diffusion.ClassifierFreeGuidance#guided} first for guidance (REFERENCE mode guides channels
     * 0..2 as SiT's {@code forward_with_cfg}).
     */
    static FlowModel conditional(DenoiserFn network, Tensor y) {
        return (x, t) -> {
            Tensor out = network.apply(x, t, y);
            long c = x.size(1);
            return out.size(1) == 2 * c ? out.narrow(1, 0, c) : out;
        };
    }
}
