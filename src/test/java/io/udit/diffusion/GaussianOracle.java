package io.udit.diffusion;

import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The exact denoiser for data x_0 ~ N(mu_c, s^2) per element (mu per channel; s = 0 is a point mass): with
 * x_t = alpha x_0 + sigma eps, E[eps | x_t] = sigma (x_t - alpha mu) / (alpha^2 s^2 + sigma^2). It reads the
 * original timestep the network would see. The probability-flow ODE maps x_t to
 * alpha_u mu + sqrt(alpha_u^2 s^2 + sigma_u^2) z with z = (x_t - alpha_t mu) / sqrt(alpha_t^2 s^2 + sigma_t^2)
 * constant, which gives exact targets for deterministic samplers.
 */
final class GaussianOracle implements DenoiserFn {
    final NoiseSchedule schedule;
    final double[] alphasCumprod;
    final double[] mu;
    final double s;
    /** null: C output channels; else a constant learned-range variance value in [-1, 1] (2C output channels). */
    final Double varianceValue;
    int calls;

    GaussianOracle(NoiseSchedule schedule, double[] mu, double s, Double varianceValue) {
        this.schedule = schedule;
        this.alphasCumprod = schedule.alphasCumprod();
        this.mu = mu;
        this.s = s;
        this.varianceValue = varianceValue;
    }

    Tensor muTensor() {
        float[] m = new float[mu.length];
        for (int i = 0; i < m.length; i++) m[i] = (float) mu[i];
        return Tensors.floats(m, 1, mu.length, 1, 1);
    }

    @Override
    public Tensor apply(Tensor x, Tensor t, Tensor y) {
        calls++;
        long[] ts = Tensors.toLongs(t);
        long n = x.size(0);
        float[] alpha = new float[(int) n], coef = new float[(int) n];
        for (int i = 0; i < n; i++) {
            double ac = alphasCumprod[(int) ts[i]];
            double a = Math.sqrt(ac), sg = Math.sqrt(1 - ac);
            alpha[i] = (float) a;
            coef[i] = (float) (sg / (a * a * s * s + sg * sg));
        }
        Tensor eps = x.sub(Tensors.floats(alpha, n, 1, 1, 1).mul(muTensor())).mul(Tensors.floats(coef, n, 1, 1, 1));
        if (varianceValue == null) return eps;
        return torch.cat(new TensorVector(eps, torch.full_like(eps, GaussianDiffusion.s(varianceValue))), 1);
    }

    /** The exact probability-flow ODE image at timestep {@code to} (-1 = clean data) of x at timestep {@code from}. */
    Tensor odeTarget(Tensor x, int from, int to) {
        double acF = alphasCumprod[from];
        double aF = Math.sqrt(acF);
        Tensor z = x.sub(muTensor().mul(GaussianDiffusion.s(aF))).div(GaussianDiffusion.s(Math.sqrt(acF * s * s + 1 - acF)));
        double aT = to < 0 ? 1 : Math.sqrt(alphasCumprod[to]);
        double sdT = to < 0 ? s : Math.sqrt(aT * aT * s * s + 1 - aT * aT);
        return muTensor().mul(GaussianDiffusion.s(aT)).add(z.mul(GaussianDiffusion.s(sdT)));
    }

    /** Per-channel sample mean and standard deviation of x (N, C, H, W). */
    static double[][] channelStats(Tensor x) {
        long c = x.size(1);
        double[][] out = new double[2][(int) c];
        for (int k = 0; k < c; k++) {
            Tensor xc = x.select(1, k).to(org.bytedeco.pytorch.global.torch.ScalarType.Double);
            out[0][k] = xc.mean().item_double();
            out[1][k] = xc.sub(GaussianDiffusion.s(out[0][k])).square().mean().sqrt().item_double();
        }
        return out;
    }
}
