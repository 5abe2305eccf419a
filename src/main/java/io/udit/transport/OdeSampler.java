package io.udit.transport;

import io.udit.diffusion.ProgressListener;
import org.bytedeco.pytorch.Tensor;

/**
 * SiT's {@code Sampler.sample_ode}: integrates the probability-flow ODE dx/dt = get_drift(x, t) on
 * linspace(t0, t1, numSteps) of the transport's sampling interval (t0 -> t1 = noise -> data, or data -> noise when
 * reversed), optionally with the grid's times shifted by {@link TimeGrid#shift}. Fixed-grid methods take
 * numSteps - 1 steps; dopri5 adapts and reports the state at the grid points.
 */
public final class OdeSampler {
    private final Transport transport;
    private final OdeMethod method;
    private final int numSteps;
    private final double atol;
    private final double rtol;
    private final boolean reverse;
    private final double shift;

    /** SiT's defaults are dopri5, 50 steps, atol 1e-6, rtol 1e-3, forward, no shift (1). */
    public OdeSampler(Transport transport, OdeMethod method, int numSteps, double atol, double rtol, boolean reverse, double shift) {
        if (numSteps < 2) throw new IllegalArgumentException("an ODE grid needs at least 2 points: " + numSteps);
        this.transport = transport;
        this.method = method;
        this.numSteps = numSteps;
        this.atol = atol;
        this.rtol = rtol;
        this.reverse = reverse;
        this.shift = shift;
    }

    /** {@code check_interval(..., sde=False, eval=True, reverse)}. */
    public TimeInterval interval() {
        return transport.interval(true, false, DiffusionForm.SBDM, reverse, 0);
    }

    /** The time grid (shifted if shift != 1). */
    public double[] grid() {
        TimeInterval i = interval();
        return TimeGrid.shift(TimeGrid.linspace(i.t0(), i.t1(), numSteps), shift);
    }

    /** The states at every grid point stacked (numSteps, ...), entry 0 being {@code init}, as SiT returns them. */
    public Tensor trajectory(FlowModel model, Tensor init, ProgressListener progress) {
        return run(model, init, grid(), true, progress);
    }

    /** The state at the end of the grid: the sample (or, reversed, the encoded noise). */
    public Tensor sample(FlowModel model, Tensor init, ProgressListener progress) {
        return run(model, init, grid(), false, progress);
    }

    /** The solver on an explicit grid (all states when {@code trajectory}, else the last). */
    public Tensor run(FlowModel model, Tensor init, double[] grid, boolean trajectory, ProgressListener progress) {
        return OdeSolver.solve(method, VectorField.of(transport.drift(model)), init, grid, atol, rtol, trajectory, progress);
    }
}
