package io.udit.diffusion;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * The loop shared by the ancestral samplers (DDPM, DDIM): from index K-1 down to 0 of a respaced process, one
 * step per index under no-grad, each step's temporaries freed by a pointer scope.
 */
final class ReverseLoop {
    /** One reverse step: x_{t-1} from x_t at the timestep tensor {@code t}. */
    @FunctionalInterface
    interface Step {
        Tensor apply(Tensor x, Tensor t, long[] shape);
    }

    private ReverseLoop() {}

    static Tensor run(GaussianDiffusion diffusion, Tensor xT, ProgressListener progress, Step step) {
        int total = diffusion.numTimesteps();
        long[] shape = xT.sizes().vec().get();
        try (NoGradGuard guard = new NoGradGuard()) {
            Tensor x = xT.clone();
            for (int k = 0; k < total; k++) {
                int i = total - 1 - k;
                try (PointerScope scope = new PointerScope()) {
                    Tensor t = GaussianDiffusion.timesteps(shape[0], i);
                    x.copy_(step.apply(x, t, shape));
                }
                progress.onStep(k + 1, total);
            }
            return x;
        }
    }
}
