package io.udit.diffusion;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * What the ancestral samplers (DDPM, DDIM) share: one model call per step of a respaced process, from index K-1
 * down to 0, under no-grad, each step's temporaries freed by a pointer scope. Subclasses say what one step does.
 */
abstract class AncestralSampler implements Sampler {
    final GaussianDiffusion diffusion;
    final boolean clipDenoised;

    AncestralSampler(GaussianDiffusion diffusion, boolean clipDenoised) {
        this.diffusion = diffusion;
        this.clipDenoised = clipDenoised;
    }

    /** The (respaced) process this sampler walks backwards. */
    public GaussianDiffusion diffusion() {
        return diffusion;
    }

    @Override
    public int modelEvaluations() {
        return diffusion.numTimesteps();
    }

    /** x_{t-1} from x_t at the timestep tensor {@code t} ({@code shape} is x's shape, for drawing noise). */
    abstract Tensor step(DenoiserFn model, Tensor x, Tensor t, Tensor y, NoiseSource noise, long[] shape);

    @Override
    public Tensor sample(DenoiserFn model, Tensor xT, Tensor y, NoiseSource noise, ProgressListener progress) {
        int total = diffusion.numTimesteps();
        long[] shape = xT.sizes().vec().get();
        try (NoGradGuard guard = new NoGradGuard()) {
            Tensor x = xT.clone();
            for (int k = 0; k < total; k++) {
                int i = total - 1 - k;
                try (PointerScope scope = new PointerScope()) {
                    Tensor t = GaussianDiffusion.timesteps(shape[0], i);
                    x.copy_(step(model, x, t, y, noise, shape));
                }
                progress.onStep(k + 1, total);
            }
            return x;
        }
    }
}
