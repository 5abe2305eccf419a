package io.udit.transport;

import io.udit.diffusion.NoiseSource;
import io.udit.diffusion.ProgressListener;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * SiT's {@code Sampler.sample_sde}: numSteps - 1 stochastic steps at grid[0 .. numSteps - 2] of
 * linspace(t0, t1, numSteps), then one {@link LastStep} at t1. The interval is {@code check_interval(sde=True)}:
 * t1 = 1 - lastStepSize with a last step, 1 - sample_eps without one. With the grid unshifted every step uses
 * SiT's dt = grid[1] - grid[0]; with a timestep shift step k uses grid[k + 1] - grid[k].
 *
 * <p>Euler-Maruyama: x = x + drift(x, t) dt + sqrt(2 w(x, t)) w_k sqrt(dt). Heun: x^ = x + sqrt(2 w(x, t)) w_k sqrt(dt),
 * K1 = drift(x^, t), K2 = drift(x^ + dt K1, t + dt), x = x^ + dt (K1 + K2) / 2. drift is the SDE drift
 * get_drift + w get_score of {@link Transport#sdeDrift}, w the {@link DiffusionForm} times diffusion_norm.
 * w_k is one draw of x's shape per stochastic step, taken from the {@link NoiseSource} in step order and cast to
 * x's dtype.
 */
public final class SdeSampler {
    private final Transport transport;
    private final SdeMethod method;
    private final DiffusionForm form;
    private final double norm;
    private final LastStep lastStep;
    private final double lastStepSize;
    private final int numSteps;
    private final double shift;

    /**
     * SiT's defaults are Euler, SBDM, norm 1, last step Mean of size 0.04, 250 steps (its CLI uses the "sigma" form);
     * shift 1 leaves the grid as SiT's. The last step size is forced to 0 for {@link LastStep#NONE}, as in SiT.
     */
    public SdeSampler(Transport transport, SdeMethod method, DiffusionForm form, double norm, LastStep lastStep,
                      double lastStepSize, int numSteps, double shift) {
        if (numSteps < 2) throw new IllegalArgumentException("an SDE grid needs at least 2 points: " + numSteps);
        this.transport = transport;
        this.method = method;
        this.form = form;
        this.norm = norm;
        this.lastStep = lastStep;
        this.lastStepSize = lastStep == LastStep.NONE ? 0.0 : lastStepSize;
        this.numSteps = numSteps;
        this.shift = shift;
        TimeInterval i = interval();
        if (!(i.t0() < i.t1())) throw new IllegalArgumentException("SDE sampler has to be in forward time: " + i);
    }

    /** {@code check_interval(..., diffusion_form, sde=True, eval=True, last_step_size)}. */
    public TimeInterval interval() {
        return transport.interval(true, true, form, false, lastStepSize);
    }

    /** The time grid of the stochastic steps, its last point being where the last step is taken. */
    public double[] grid() {
        TimeInterval i = interval();
        return TimeGrid.shift(TimeGrid.linspace(i.t0(), i.t1(), numSteps), shift);
    }

    /** SiT's output list stacked (numSteps, ...): the states after each stochastic step, then the last step's. */
    public Tensor trajectory(FlowModel model, Tensor init, NoiseSource noise, ProgressListener progress) {
        return run(model, init, grid(), noise, true, progress);
    }

    /** The sample: the last step's output. */
    public Tensor sample(FlowModel model, Tensor init, NoiseSource noise, ProgressListener progress) {
        return run(model, init, grid(), noise, false, progress);
    }

    /**
     * The sampler on an explicit grid (all numSteps outputs when {@code trajectory}, else the last). Step sizes follow
     * {@link #stepSize}, so an explicit non-uniform grid needs a sampler built with a shift other than 1.
     */
    public Tensor run(FlowModel model, Tensor init, double[] grid, NoiseSource noise, boolean trajectory, ProgressListener progress) {
        int n = grid.length;
        FlowModel drift = transport.sdeDrift(model, form, norm);
        long[] shape = init.sizes().vec().get();
        try (NoGradGuard guard = new NoGradGuard()) {
            Tensor out = trajectory ? torch.empty(OdeSolver.prepend(n, shape), init.options(), null) : null;
            Tensor x = init.clone();
            for (int k = 0; k < n - 1; k++) {
                try (PointerScope scope = new PointerScope()) {
                    Tensor w = noise.next(shape).to(x.device(), x.scalar_type());
                    x.copy_(stochasticStep(drift, x, grid[k], stepSize(grid, k), w));
                    if (trajectory) out.select(0, k).copy_(x);
                }
                progress.onStep(k + 1, n);
            }
            try (PointerScope scope = new PointerScope()) {
                x.copy_(last(model, drift, x, grid[n - 1]));
            }
            progress.onStep(n, n);
            if (!trajectory) return x;
            out.select(0, n - 1).copy_(x);
            return out;
        }
    }

    /** Step k's size: SiT's constant grid[1] - grid[0] on an unshifted grid, grid[k + 1] - grid[k] on a shifted one. */
    double stepSize(double[] grid, int k) {
        return shift == 1 ? grid[1] - grid[0] : grid[k + 1] - grid[k];
    }

    private Tensor stochasticStep(FlowModel drift, Tensor x, double t, double dt, Tensor w) {
        Tensor tCur = Ts.times(x, t);
        Tensor dw = w.mul(new Scalar(Math.sqrt(dt)));
        Tensor diffusion = transport.path().diffusion(x, tCur, form, norm);
        if (method == SdeMethod.EULER) {
            Tensor mean = x.add(drift.apply(x, tCur).mul(new Scalar(dt)));
            return mean.add(Ts.mul(2, diffusion).sqrt().mul(dw));
        }
        Tensor xHat = x.add(Ts.mul(2, diffusion).sqrt().mul(dw));
        Tensor k1 = drift.apply(xHat, tCur);
        Tensor xp = xHat.add(k1.mul(new Scalar(dt)));
        Tensor k2 = drift.apply(xp, Ts.times(x, t + dt));
        return xHat.add(k1.add(k2).mul(new Scalar(0.5 * dt)));
    }

    private Tensor last(FlowModel model, FlowModel sdeDrift, Tensor x, double t1) {
        Tensor ts = Ts.times(x, t1);
        return switch (lastStep) {
            case NONE -> x.clone();
            case MEAN -> x.add(sdeDrift.apply(x, ts).mul(new Scalar(lastStepSize)));
            case EULER -> x.add(transport.drift(model).apply(x, ts).mul(new Scalar(lastStepSize)));
            case TWEEDIE -> {
                double a = transport.path().alpha(ts).value().select(0, 0).item_double();
                double s = transport.path().sigma(ts).value().select(0, 0).item_double();
                yield x.div(new Scalar(a)).add(transport.score(model).apply(x, ts).mul(new Scalar(s * s / a)));
            }
        };
    }
}
