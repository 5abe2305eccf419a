package io.udit.transport;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * An interpolation path x_t = alpha_t x1 + sigma_t x0 (SiT's ICPlan and subclasses): its coefficients, the SDE
 * quantities derived from them and the conversions between velocity, score and noise.
 *
 * <p>Methods taking a t "like x" accept t either as B values or already viewed as (B, 1, ..., 1); coefficient
 * methods ({@link #alpha}, {@link #sigma}, {@link #dAlphaAlphaRatio}) work element-wise on whatever t they get.
 * The formulas keep SiT's operand order, so float64 results agree with SiT's to rounding.
 */
public abstract class FlowPath {
    /** The drift pair of SiT's {@code compute_drift}: {@code mean} = -f(x, t) and {@code var} = g_t^2 / 2. */
    public record Drift(Tensor mean, Tensor var) {}

    /** x_t and the conditional velocity u_t = alpha'_t x1 + sigma'_t x0 of {@link #plan}. */
    public record Plan(Tensor xt, Tensor ut) {}

    /** alpha_t (the data coefficient) and its derivative. */
    public abstract Coefficient alpha(Tensor t);

    /** sigma_t (the noise coefficient) and its derivative. */
    public abstract Coefficient sigma(Tensor t);

    /** alpha'_t / alpha_t in its numerically stable form. */
    public abstract Tensor dAlphaAlphaRatio(Tensor t);

    /** The path's name as SiT's CLI spells it (Linear, GVP, VP). */
    public abstract String name();

    /**
     * SiT's {@code compute_drift}: mean = -(alpha'/alpha) x and var = (alpha'/alpha) sigma^2 - sigma sigma'
     * (VP overrides it with its beta_t form).
     */
    public Drift drift(Tensor x, Tensor t) {
        Tensor te = Ts.expandLike(t, x);
        Tensor ratio = dAlphaAlphaRatio(te);
        Coefficient s = sigma(te);
        Tensor mean = ratio.mul(x).neg();
        Tensor var = ratio.mul(Ts.square(s.value())).sub(s.value().mul(s.derivative()));
        return new Drift(mean, var);
    }

    /** SiT's {@code compute_diffusion}: the diffusion coefficient w_t of the given form, shaped (B, 1, ..., 1). */
    public Tensor diffusion(Tensor x, Tensor t, DiffusionForm form, double norm) {
        Tensor te = Ts.expandLike(t, x);
        return switch (form) {
            case CONSTANT -> torch.full_like(te, new Scalar(norm));
            case SBDM -> Ts.mul(norm, drift(x, te).var());
            case SIGMA -> Ts.mul(norm, sigma(te).value());
            case LINEAR -> Ts.mul(norm, Ts.rsub(1, te));
            case DECREASING -> Ts.mul(0.25, Ts.square(Ts.add(Ts.mul(norm, Ts.mul(Math.PI, te).cos()), 1)));
            case INCREASING_DECREASING -> Ts.mul(norm, Ts.square(Ts.mul(Math.PI, te).sin()));
        };
    }

    /** SiT's {@code get_score_from_velocity}: (r v - x) / (sigma^2 - r sigma' sigma), r = alpha / alpha'. */
    public Tensor scoreFromVelocity(Tensor velocity, Tensor x, Tensor t) {
        Tensor te = Ts.expandLike(t, x);
        Coefficient a = alpha(te), s = sigma(te);
        Tensor r = a.value().div(a.derivative());
        Tensor var = Ts.square(s.value()).sub(r.mul(s.derivative()).mul(s.value()));
        return r.mul(velocity).sub(x).div(var);
    }

    /** SiT's {@code get_noise_from_velocity}: (r v - x) / (r sigma' - sigma), r = alpha / alpha'. */
    public Tensor noiseFromVelocity(Tensor velocity, Tensor x, Tensor t) {
        Tensor te = Ts.expandLike(t, x);
        Coefficient a = alpha(te), s = sigma(te);
        Tensor r = a.value().div(a.derivative());
        Tensor var = r.mul(s.derivative()).sub(s.value());
        return r.mul(velocity).sub(x).div(var);
    }

    /** SiT's {@code get_velocity_from_score}: var * score - mean of {@link #drift}. */
    public Tensor velocityFromScore(Tensor score, Tensor x, Tensor t) {
        Drift d = drift(x, Ts.expandLike(t, x));
        return d.var().mul(score).sub(d.mean());
    }

    /** SiT's {@code plan}: x_t = alpha_t x1 + sigma_t x0 and u_t = alpha'_t x1 + sigma'_t x0 (t has B values). */
    public Plan plan(Tensor t, Tensor x0, Tensor x1) {
        Tensor te = Ts.expandLike(t, x1);
        Coefficient a = alpha(te), s = sigma(te);
        Tensor xt = a.value().mul(x1).add(s.value().mul(x0));
        Tensor ut = a.derivative().mul(x1).add(s.derivative().mul(x0));
        return new Plan(xt, ut);
    }

    /** The path named as in SiT (Linear, GVP, VP; case-insensitive) with SiT's default parameters. */
    public static FlowPath parse(String name) {
        return switch (name.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "linear" -> new LinearPath();
            case "gvp" -> new GvpPath();
            case "vp" -> new VpPath();
            default -> throw new IllegalArgumentException("unknown path '" + name + "' (Linear, GVP, VP)");
        };
    }
}
