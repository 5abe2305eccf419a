package io.udit.transport;

import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * The flow-matching objective of SiT's {@code Transport}: a {@link FlowPath}, what the network predicts, the loss
 * weight and the two eps margins that keep training and sampling away from the singular ends of the path.
 *
 * <p>{@link #create} applies {@code create_transport}'s defaults; {@link #interval} is {@code check_interval};
 * {@link #trainingLosses} is {@code training_losses} with the random draws (t, x0) passed in, so the caller draws
 * them from its own seeded generator (see {@link TimestepSampling}); {@link #drift} and {@link #score} are
 * {@code get_drift} and {@code get_score} bound to a model. The canonical constructor takes the eps values as given
 * (no defaults applied).
 */
public record Transport(FlowPath path, Prediction prediction, LossWeight lossWeight, double trainEps, double sampleEps) {
    /** SiT's {@code training_losses} terms: the per-sample loss (B) and the network output. */
    public record Losses(Tensor loss, Tensor prediction) {}

    /** The random inputs of one training step: times t (B) and noise x0 of x1's shape. */
    public record Draws(Tensor t, Tensor x0) {}

    /**
     * SiT's {@code create_transport} defaults: VP: train_eps 1e-5, sample_eps 1e-3; Linear/GVP with a noise or score
     * model: 1e-3 and 1e-3; Linear/GVP velocity: 0 and 0, whatever is passed. If {@code trainEps} is given (non-null)
     * it is used and {@code sampleEps} is taken as given; a {@code sampleEps} given without {@code trainEps} is
     * ignored, as in SiT. Where SiT would then go on with sample_eps = None (and crash when sampling), this refuses.
     */
    public static Transport create(FlowPath path, Prediction prediction, LossWeight lossWeight, Double trainEps, Double sampleEps) {
        double train, sample;
        boolean velocityStable = !(path instanceof VpPath) && prediction == Prediction.VELOCITY;
        if (velocityStable) {
            train = 0;
            sample = 0;
        } else {
            double defaultTrain = path instanceof VpPath ? 1e-5 : 1e-3;
            if (trainEps == null) {
                train = defaultTrain;
                sample = 1e-3;
            } else {
                if (sampleEps == null) {
                    throw new IllegalArgumentException("train_eps given without sample_eps: SiT would sample with eps = None");
                }
                train = trainEps;
                sample = sampleEps;
            }
        }
        return new Transport(path, prediction, lossWeight, train, sample);
    }

    /** {@link #create} with SiT's default eps values. */
    public static Transport create(FlowPath path, Prediction prediction, LossWeight lossWeight) {
        return create(path, prediction, lossWeight, null, null);
    }

    /**
     * SiT's {@code check_interval}. VP: t0 = 0, t1 = 1 - eps (or 1 - lastStepSize for an SDE with a last step).
     * Linear/GVP: [0, 1] for velocity ODEs; otherwise t0 = eps for noise/score models or an SBDM SDE (else 0) and
     * t1 as for VP. eps is sample_eps when {@code eval}, else train_eps. {@code reverse} maps both ends to 1 - t.
     */
    public TimeInterval interval(boolean eval, boolean sde, DiffusionForm form, boolean reverse, double lastStepSize) {
        double t0 = 0, t1 = 1;
        double eps = eval ? sampleEps : trainEps;
        if (path instanceof VpPath) {
            t1 = !sde || lastStepSize == 0 ? 1 - eps : 1 - lastStepSize;
        } else if (prediction != Prediction.VELOCITY || sde) {
            t0 = (form == DiffusionForm.SBDM && sde) || prediction != Prediction.VELOCITY ? eps : 0;
            t1 = !sde || lastStepSize == 0 ? 1 - eps : 1 - lastStepSize;
        }
        return reverse ? new TimeInterval(1 - t0, 1 - t1) : new TimeInterval(t0, t1);
    }

    /** The interval training draws t from: {@code check_interval(train_eps, sample_eps)} with its defaults. */
    public TimeInterval trainingInterval() {
        return interval(false, false, DiffusionForm.SBDM, false, 0);
    }

    /**
     * SiT's {@code Transport.sample} with a given generator: x0 ~ N(0, I) like x1, then t on
     * {@link #trainingInterval} by {@code sampling} (SiT: uniform), both in x1's dtype and drawn in that order.
     */
    public Draws draw(Tensor x1, TimestepSampling sampling, Generator generator) {
        Tensor x0 = torch.randn(x1.sizes().vec().get(), new GeneratorOptional(generator), new TensorOptions(x1.scalar_type()))
                .to(x1.device(), x1.scalar_type());
        Tensor t = sampling.sample(x1.size(0), trainingInterval(), generator, x1.scalar_type()).to(x1.device(), x1.scalar_type());
        return new Draws(t, x0);
    }

    /**
     * SiT's {@code training_losses} for given draws: x_t, u_t = plan(t, x0, x1); velocity models:
     * mean((v - u_t)^2); noise: mean(w (eps - x0)^2); score: mean(w (s sigma_t + x0)^2), w from the loss weight.
     * Means are over all but the batch dimension. t holds B times in x1's dtype.
     */
    public Losses trainingLosses(FlowModel model, Tensor x1, Tensor t, Tensor x0) {
        FlowPath.Plan plan = path.plan(t, x0, x1);
        Tensor out = model.apply(plan.xt(), t);
        if (!java.util.Arrays.equals(out.sizes().vec().get(), plan.xt().sizes().vec().get())) {
            throw new IllegalArgumentException("model output shape differs from x_t's (learn_sigma is not supported)");
        }
        if (prediction == Prediction.VELOCITY) {
            return new Losses(Ts.meanFlat(Ts.square(out.sub(plan.ut()))), out);
        }
        Tensor sigmaT = path.sigma(Ts.expandLike(t, plan.xt())).value();
        Tensor residual = prediction == Prediction.NOISE ? out.sub(x0) : out.mul(sigmaT).add(x0);
        Tensor sq = Ts.square(residual);
        Tensor weighted = switch (lossWeight) {
            case NONE -> sq;
            case VELOCITY -> Ts.square(path.drift(plan.xt(), t).var().div(sigmaT)).mul(sq);
            case LIKELIHOOD -> path.drift(plan.xt(), t).var().div(Ts.square(sigmaT)).mul(sq);
        };
        return new Losses(Ts.meanFlat(weighted), out);
    }

    /** The probability-flow ODE drift of a network output m at (x, t): SiT's {@code get_drift} bodies. */
    Tensor driftFromOutput(Tensor m, Tensor x, Tensor t) {
        if (prediction == Prediction.VELOCITY) return m;
        FlowPath.Drift d = path.drift(x, t);
        Tensor score = prediction == Prediction.SCORE ? m : scoreFromNoise(m, x, t);
        return d.mean().neg().add(d.var().mul(score));
    }

    /** The score of a network output m at (x, t): SiT's {@code get_score} bodies. */
    Tensor scoreFromOutput(Tensor m, Tensor x, Tensor t) {
        return switch (prediction) {
            case SCORE -> m;
            case NOISE -> scoreFromNoise(m, x, t);
            case VELOCITY -> path.scoreFromVelocity(m, x, t);
        };
    }

    /** score = eps / -sigma_t. */
    private Tensor scoreFromNoise(Tensor eps, Tensor x, Tensor t) {
        return eps.div(path.sigma(Ts.expandLike(t, x)).value().neg());
    }

    /** SiT's {@code get_drift()} bound to a model: the probability-flow ODE velocity field. */
    public FlowModel drift(FlowModel model) {
        return (x, t) -> driftFromOutput(model.apply(x, t), x, t);
    }

    /** SiT's {@code get_score()} bound to a model. */
    public FlowModel score(FlowModel model) {
        return (x, t) -> scoreFromOutput(model.apply(x, t), x, t);
    }

    /**
     * The SDE drift of SiT's Sampler: drift + w_t * score. SiT calls the model twice (once for each term); this
     * calls it once and derives both terms from the same output, which gives the same values for a deterministic
     * network at half the cost.
     */
    public FlowModel sdeDrift(FlowModel model, DiffusionForm form, double norm) {
        return (x, t) -> {
            Tensor m = model.apply(x, t);
            return driftFromOutput(m, x, t).add(path.diffusion(x, t, form, norm).mul(scoreFromOutput(m, x, t)));
        };
    }
}
