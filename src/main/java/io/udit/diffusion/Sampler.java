package io.udit.diffusion;

import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * A diffusion sampler: from x_T ~ N(0, I) to a sample, calling the denoiser {@link #modelEvaluations()} times.
 * Runs without autograd; each step's temporaries live in a PointerScope, so native memory stays flat. The same
 * seed (or the same noise) gives the same output.
 */
public interface Sampler {
    /** Denoiser calls per sample (a guided denoiser doubles the batch inside each call). */
    int modelEvaluations();

    /**
     * Samples from the given initial noise x_T (not modified); stochastic steps take their noise from
     * {@code noise}. y is passed to the model unchanged (null for unconditional models).
     */
    Tensor sample(DenoiserFn model, Tensor xT, Tensor y, NoiseSource noise, ProgressListener progress);

    /** Samples with x_T and all further noise drawn from {@code noise}, x_T first. */
    default Tensor sample(DenoiserFn model, long[] shape, Tensor y, NoiseSource noise, ProgressListener progress) {
        Tensor xT;
        try (NoGradGuard guard = new NoGradGuard()) {
            xT = noise.next(shape);
        }
        return sample(model, xT, y, noise, progress);
    }

    default Tensor sample(DenoiserFn model, long[] shape, Tensor y, Generator generator, ProgressListener progress) {
        return sample(model, shape, y, NoiseSource.of(generator), progress);
    }

    /** Samples with a fresh CPU generator seeded with {@code seed}. */
    default Tensor sample(DenoiserFn model, long[] shape, Tensor y, long seed, ProgressListener progress) {
        return sample(model, shape, y, NoiseSource.generator(seed), progress);
    }
}
