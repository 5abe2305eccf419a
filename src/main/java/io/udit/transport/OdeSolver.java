package io.udit.transport;

import io.udit.diffusion.ProgressListener;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * torchdiffeq's {@code odeint} on a given time grid: the state at every grid point, the first being y0 itself.
 * A decreasing grid is solved as torchdiffeq does, on the negated grid with the field -f(-t, y).
 *
 * <p>Runs without autograd; each step's temporaries live in a PointerScope and the states are copied into tensors
 * allocated before it, so native memory stays flat over many steps.
 */
public final class OdeSolver {
    private OdeSolver() {}

    /**
     * Solves dy/dt = f(t, y) from y0 at grid[0] through the grid (strictly monotonic, at least 2 points). Returns
     * the stacked states (grid.length, ...y0 shape) when {@code trajectory}, else the state at the last grid point.
     * atol/rtol are used by {@link OdeMethod#DOPRI5} only. {@code progress} is told after each grid interval.
     */
    public static Tensor solve(OdeMethod method, VectorField f, Tensor y0, double[] grid, double atol, double rtol,
                               boolean trajectory, ProgressListener progress) {
        int n = grid.length;
        if (n < 2) throw new IllegalArgumentException("a time grid needs at least 2 points");
        boolean decreasing = grid[1] < grid[0];
        double[] t = decreasing ? negate(grid) : grid.clone();
        for (int i = 1; i < n; i++) {
            if (!(t[i] > t[i - 1])) throw new IllegalArgumentException("the time grid must be strictly monotonic");
        }
        VectorField field = decreasing ? f.reversed() : f;
        try (NoGradGuard guard = new NoGradGuard()) {
            Tensor out = trajectory ? torch.empty(prepend(n, y0.sizes().vec().get()), y0.options(), null) : null;
            if (trajectory) out.select(0, 0).copy_(y0);
            Tensor y = y0.clone();
            Dopri5 adaptive = method == OdeMethod.DOPRI5 ? new Dopri5(field, y, t[0], atol, rtol) : null;
            for (int j = 1; j < n; j++) {
                try (PointerScope scope = new PointerScope()) {
                    if (adaptive != null) {
                        y.copy_(adaptive.advance(t[j]));
                    } else {
                        y.copy_(y.add(step(method, field, t[j - 1], t[j] - t[j - 1], t[j], y)));
                    }
                    if (trajectory) out.select(0, j).copy_(y);
                }
                progress.onStep(j, n - 1);
            }
            return trajectory ? out : y;
        }
    }

    /** One fixed-grid increment dy from (t0, y0) with step dt to t1, in torchdiffeq's operation order. */
    static Tensor step(OdeMethod method, VectorField f, double t0, double dt, double t1, Tensor y0) {
        switch (method) {
            case EULER:
                return f.apply(t0, y0).mul(new Scalar(dt));
            case MIDPOINT: {
                double halfDt = 0.5 * dt;
                Tensor yMid = y0.add(f.apply(t0, y0).mul(new Scalar(halfDt)));
                return f.apply(t0 + halfDt, yMid).mul(new Scalar(dt));
            }
            case RK4: {
                double third = 1.0 / 3, twoThirds = 2.0 / 3;
                Tensor k1 = f.apply(t0, y0);
                Tensor k2 = f.apply(t0 + dt * third, y0.add(k1.mul(new Scalar(dt)).mul(new Scalar(third))));
                Tensor k3 = f.apply(t0 + dt * twoThirds, y0.add(k2.sub(k1.mul(new Scalar(third))).mul(new Scalar(dt))));
                Tensor k4 = f.apply(t1, y0.add(k1.sub(k2).add(k3).mul(new Scalar(dt))));
                return k1.add(k2.add(k3).mul(new Scalar(3.0))).add(k4).mul(new Scalar(dt)).mul(new Scalar(0.125));
            }
            case HEUN2: {
                Tensor k1 = f.apply(t0, y0);
                Tensor k2 = f.apply(t0 + dt * 1.0, y0.add(k1.mul(new Scalar(dt)).mul(new Scalar(1.0))));
                return k1.mul(new Scalar(0.5)).add(k2.mul(new Scalar(0.5))).mul(new Scalar(dt));
            }
            default:
                throw new IllegalArgumentException(method + " is not a fixed-grid method");
        }
    }

    private static double[] negate(double[] g) {
        double[] out = new double[g.length];
        for (int i = 0; i < g.length; i++) out[i] = -g[i];
        return out;
    }

    static long[] prepend(long n, long[] shape) {
        long[] out = new long[shape.length + 1];
        out[0] = n;
        System.arraycopy(shape, 0, out, 1, shape.length);
        return out;
    }
}
