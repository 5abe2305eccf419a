package io.udit.transport;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * SiT's VPCPlan: the score-SDE VP schedule run in SiT time, alpha_t = exp(m(t)) with
 * m(t) = -0.25 (1-t)^2 (b_max - b_min) - 0.5 (1-t) b_min and sigma_t = sqrt(1 - alpha_t^2). SiT calls b_min, b_max
 * "sigma_min" = 0.1 and "sigma_max" = 20; alpha_0 is about 6.6e-3, not 0.
 */
public final class VpPath extends FlowPath {
    private final double betaMin;
    private final double betaMax;

    /** SiT's defaults (0.1, 20). */
    public VpPath() {
        this(0.1, 20.0);
    }

    public VpPath(double betaMin, double betaMax) {
        this.betaMin = betaMin;
        this.betaMax = betaMax;
    }

    /** m(t) = log alpha_t. */
    private Tensor logMeanCoeff(Tensor t) {
        Tensor u = Ts.rsub(1, t);
        return Ts.mul(-0.25, Ts.square(u)).mul(new Scalar(betaMax - betaMin)).sub(Ts.mul(0.5, u).mul(new Scalar(betaMin)));
    }

    /** m'(t) = alpha'_t / alpha_t. */
    private Tensor dLogMeanCoeff(Tensor t) {
        return Ts.add(Ts.mul(0.5, Ts.rsub(1, t)).mul(new Scalar(betaMax - betaMin)), 0.5 * betaMin);
    }

    @Override
    public Coefficient alpha(Tensor t) {
        Tensor a = logMeanCoeff(t).exp();
        return new Coefficient(a, a.mul(dLogMeanCoeff(t)));
    }

    @Override
    public Coefficient sigma(Tensor t) {
        Tensor p = Ts.mul(2, logMeanCoeff(t)).exp();
        Tensor s = Ts.rsub(1, p).sqrt();
        Tensor ds = p.mul(Ts.mul(2, dLogMeanCoeff(t))).div(Ts.mul(-2, s));
        return new Coefficient(s, ds);
    }

    @Override
    public Tensor dAlphaAlphaRatio(Tensor t) {
        return dLogMeanCoeff(t);
    }

    /** VP's own form: mean = -0.5 beta_t x, var = beta_t / 2 with beta_t = b_min + (1 - t)(b_max - b_min). */
    @Override
    public Drift drift(Tensor x, Tensor t) {
        Tensor te = Ts.expandLike(t, x);
        Tensor beta = Ts.add(Ts.rsub(1, te).mul(new Scalar(betaMax - betaMin)), betaMin);
        return new Drift(Ts.mul(-0.5, beta).mul(x), beta.div(new Scalar(2.0)));
    }

    @Override
    public String name() {
        return "VP";
    }
}
