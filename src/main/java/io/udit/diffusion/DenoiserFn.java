package io.udit.diffusion;

import org.bytedeco.pytorch.Tensor;

/**
 * The network as the diffusion process sees it: {@code (x_t, t, y) -> output}, where x_t is (N, C, H, W), t holds N
 * original (unrespaced) int64 timesteps, y holds N int64 class ids (or is null for an unconditional model), and the
 * output is (N, C, H, W) epsilon or (N, 2C, H, W) epsilon followed by the learned-range variance values in [-1, 1].
 *
 * <p>Samplers call it inside a {@link org.bytedeco.javacpp.PointerScope}: tensors it creates and keeps between calls
 * (caches) must be created outside any scope or detached from it.
 */
@FunctionalInterface
public interface DenoiserFn {
    Tensor apply(Tensor x, Tensor t, Tensor y);
}
