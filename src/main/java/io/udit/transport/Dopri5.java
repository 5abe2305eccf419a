package io.udit.transport;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Adaptive Dormand-Prince 5(4) as torchdiffeq's {@code dopri5} (RKAdaptiveStepsizeODESolver): the
 * Dormand-Prince-Shampine tableau, first step from {@code _select_initial_step} (Hairer et al. II.4), error ratio =
 * RMS over the whole state of error / (atol + rtol max(|y0|, |y1|)), step accepted when the ratio is <= 1, next
 * step from {@code _optimal_step_size} (safety 0.9, growth at most 10, shrink at most 0.2, exponent 1/5), the
 * stages with c = 1 evaluated at the previous float of t1, and the state at a requested time from the 4th-order
 * polynomial through y0, y1, the DPS mid-point and both end slopes.
 *
 * <p>Works on increasing time only (the caller reverses a decreasing grid). As in torchdiffeq the error norm spans
 * the whole batch, so one sample's trajectory depends on the others in its batch.
 */
final class Dopri5 {
    private static final double[] C = {1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1.0, 1.0};
    private static final double[][] A = {
        {1.0 / 5},
        {3.0 / 40, 9.0 / 40},
        {44.0 / 45, -56.0 / 15, 32.0 / 9},
        {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
        {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
        {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84},
    };
    private static final double[] ERROR = {
        35.0 / 384 - 1951.0 / 21600, 0, 500.0 / 1113 - 22642.0 / 50085, 125.0 / 192 - 451.0 / 720,
        -2187.0 / 6784 - -12231.0 / 42400, 11.0 / 84 - 649.0 / 6300, -1.0 / 60,
    };
    private static final double[] MID = {
        6025192743.0 / 30085553152.0 / 2, 0, 51252292925.0 / 65400821598.0 / 2, -2691868925.0 / 45128329728.0 / 2,
        187940372067.0 / 1594534317056.0 / 2, -1776094331.0 / 19743644256.0 / 2, 11237099.0 / 235043384.0 / 2,
    };
    private static final int ORDER = 5;
    private static final double SAFETY = 0.9, IFACTOR = 10.0, DFACTOR = 0.2;
    /** A guard against endless step shrinking (torchdiffeq's default is 2^31 - 1). */
    static final int MAX_STEPS = 100_000;

    private final VectorField f;
    private final double atol;
    private final double rtol;
    /** State at the end of the last accepted step, and the slope there. */
    private final Tensor y;
    private final Tensor slope;
    /** Interpolation coefficients [e, d, c, b, a] of p(x) = e + d x + c x^2 + b x^3 + a x^4 over [t0, t1]. */
    private final Tensor[] coeff = new Tensor[5];
    private double t0;
    private double t1;
    private double dt;
    private int steps;

    /** Starts at (tStart, y0); allocates its state outside any step scope (call it outside one). */
    Dopri5(VectorField f, Tensor y0, double tStart, double atol, double rtol) {
        this.f = f;
        this.atol = atol;
        this.rtol = rtol;
        this.y = y0.clone();
        this.slope = f.apply(tStart, y0).clone();
        for (int i = 0; i < coeff.length; i++) coeff[i] = y0.clone();
        this.t0 = tStart;
        this.t1 = tStart;
        try (PointerScope scope = new PointerScope()) {
            this.dt = initialStep(tStart, y0, slope);
        }
    }

    /** Accepted plus rejected steps taken so far. */
    int steps() {
        return steps;
    }

    /** Integrates until t1 >= nextT and returns the interpolated state at nextT (a temporary of the caller's scope). */
    Tensor advance(double nextT) {
        while (nextT > t1) {
            if (steps >= MAX_STEPS) throw new IllegalStateException("dopri5: more than " + MAX_STEPS + " steps (atol/rtol too tight?)");
            try (PointerScope scope = new PointerScope()) {
                adaptiveStep();
            }
            steps++;
        }
        double x = (nextT - t0) / (t1 - t0);
        Tensor total = coeff[0].add(coeff[1].mul(new Scalar(x)));
        double power = x;
        for (int i = 2; i < coeff.length; i++) {
            power = power * x;
            total = total.add(coeff[i].mul(new Scalar(power)));
        }
        return total;
    }

    private void adaptiveStep() {
        double start = t1, end = start + dt;
        if (!(end > start)) throw new IllegalStateException("dopri5: step size underflow at t = " + start + " (dt = " + dt + ")");
        if (!torch.isfinite(y).all().item_bool()) {
            throw new IllegalStateException("dopri5: non-finite values in the state at t = " + start);
        }
        Tensor[] k = new Tensor[7];
        k[0] = slope;
        Tensor yi = y;
        for (int i = 0; i < 6; i++) {
            double ti = C[i] == 1.0 ? Math.nextDown(end) : start + C[i] * dt;
            yi = y.add(combine(k, A[i], dt));
            k[i + 1] = f.apply(ti, yi);
        }
        Tensor y1 = yi; // the 5th-order solution equals the last stage's input (c_sol = last row of A, FSAL)
        Tensor error = combine(k, ERROR, dt);
        Tensor tol = y.abs().maximum(y1.abs()).mul(new Scalar(rtol)).add(new Scalar(atol));
        double ratio = rms(error.div(tol));
        if (ratio <= 1) {
            Tensor yMid = y.add(combine(k, MID, dt));
            fitInterpolation(y, y1, yMid, k[0], k[6], dt);
            y.copy_(y1);
            slope.copy_(k[6]);
            t0 = start;
            t1 = end;
        } else {
            t0 = start; // a rejected step keeps t1 and the previous interpolation (torchdiffeq's state update)
        }
        dt = optimalStep(dt, ratio);
    }

    /** sum_j k_j (w_j dt) over the non-zero weights. */
    private static Tensor combine(Tensor[] k, double[] w, double dt) {
        Tensor sum = null;
        for (int j = 0; j < w.length; j++) {
            if (w[j] == 0) continue;
            Tensor term = k[j].mul(new Scalar(w[j] * dt));
            sum = sum == null ? term : sum.add(term);
        }
        return sum;
    }

    private void fitInterpolation(Tensor y0, Tensor y1, Tensor yMid, Tensor f0, Tensor f1, double h) {
        Tensor a = f0.mul(new Scalar(-2 * h)).add(f1.mul(new Scalar(2 * h))).add(y0.mul(new Scalar(-8.0)))
                .add(y1.mul(new Scalar(-8.0))).add(yMid.mul(new Scalar(16.0)));
        Tensor b = f0.mul(new Scalar(5 * h)).add(f1.mul(new Scalar(-3 * h))).add(y0.mul(new Scalar(18.0)))
                .add(y1.mul(new Scalar(14.0))).add(yMid.mul(new Scalar(-32.0)));
        Tensor c = f0.mul(new Scalar(-4 * h)).add(f1.mul(new Scalar(h))).add(y0.mul(new Scalar(-11.0)))
                .add(y1.mul(new Scalar(-5.0))).add(yMid.mul(new Scalar(16.0)));
        coeff[0].copy_(y0);
        coeff[1].copy_(f0.mul(new Scalar(h)));
        coeff[2].copy_(c);
        coeff[3].copy_(b);
        coeff[4].copy_(a);
    }

    /** torchdiffeq's {@code _select_initial_step} for a method of order 5 (its "order - 1" = 4). */
    private double initialStep(double t, Tensor y0, Tensor f0) {
        Tensor scale = y0.abs().mul(new Scalar(rtol)).add(new Scalar(atol));
        double d0 = rms(y0.div(scale));
        double d1 = rms(f0.div(scale));
        double h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
        Tensor f1 = f.apply(t + h0, y0.add(f0.mul(new Scalar(h0))));
        double d2 = rms(f1.sub(f0).div(scale)) / h0;
        double h1 = d1 <= 1e-15 && d2 <= 1e-15 ? Math.max(1e-6, h0 * 1e-3) : Math.pow(0.01 / Math.max(d1, d2), 1.0 / (4 + 1));
        return Math.min(100 * h0, h1);
    }

    /** torchdiffeq's {@code _optimal_step_size}. */
    private static double optimalStep(double last, double ratio) {
        if (ratio == 0) return last * IFACTOR;
        double shrink = ratio < 1 ? 1.0 : DFACTOR;
        double factor = Math.min(IFACTOR, Math.max(SAFETY / Math.pow(ratio, 1.0 / ORDER), shrink));
        return last * factor;
    }

    private static double rms(Tensor t) {
        return t.mul(t).mean().sqrt().item_double();
    }
}
