package io.udit.transport;

import io.udit.diffusion.NoiseSource;
import io.udit.diffusion.ProgressListener;
import io.udit.engine.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.List;

/**
 * One call from a model, a {@link Transport} and a {@link FlowSamplerSpec} to samples: what {@code udit sample}
 * uses for flow-matching checkpoints.
 *
 * <p>Contract: the model is {@code (x, t) -> output} with t the per-sample SiT time (0 noise, 1 data) in x's dtype;
 * labels and guidance are closed over by the caller ({@link FlowModel#conditional} around
 * {@link io.udit.diffusion.ClassifierFreeGuidance#guided}, optionally with a flow {@link
 * io.udit.diffusion.GuidanceInterval}). The initial state is noise N(0, I) for forward runs (data for reversed ODEs)
 * and is not modified. SDE runs take one draw of x's shape per stochastic step from the {@link NoiseSource}, in
 * step order; a per-image noise source (one generator per image) makes each image independent of the batch it is
 * sampled in. Fixed-grid ODEs and SDEs are per-image; dopri5's error norm spans the batch (as torchdiffeq's), so
 * its images depend slightly on their batch. Runs without autograd and returns a new tensor of init's shape and
 * dtype.
 *
 * <p>Before sampling, {@link #check} refuses the configurations where SiT's formulas are singular at a time the
 * sampler evaluates (they would give NaN/inf for any network): the SBDM SDE for velocity models on Linear/GVP
 * (infinite diffusion at t = 0), Heun without a last step on the Linear velocity path (score at t = 1 where
 * sigma = 0), and the reversed VP noise ODE (starts at t = 1 where sigma = 0). The samplers themselves
 * ({@link OdeSampler}, {@link SdeSampler}) reproduce SiT's NaN/inf there, which the parity test checks.
 */
public final class FlowSampling {
    private FlowSampling() {}

    /** Samples from the given initial state (see the class comment). */
    public static Tensor sample(Transport transport, FlowModel model, FlowSamplerSpec spec, Tensor init, NoiseSource noise,
                                ProgressListener progress) {
        check(transport, spec);
        if (spec.kind() == FlowSamplerSpec.Kind.ODE) return odeSampler(transport, spec).sample(model, init, progress);
        return sdeSampler(transport, spec).sample(model, init, noise, progress);
    }

    /** Samples with the initial noise drawn first from {@code noise} (cast to {@code dtype}), then the SDE noise. */
    public static Tensor sample(Transport transport, FlowModel model, FlowSamplerSpec spec, long[] shape, ScalarType dtype,
                                NoiseSource noise, ProgressListener progress) {
        Tensor init;
        try (NoGradGuard guard = new NoGradGuard()) {
            init = noise.next(shape).to(dtype);
        }
        return sample(transport, model, spec, init, noise, progress);
    }

    public static OdeSampler odeSampler(Transport transport, FlowSamplerSpec spec) {
        return new OdeSampler(transport, spec.odeMethod(), spec.steps(), spec.atol(), spec.rtol(), spec.reverse(), spec.shift());
    }

    public static SdeSampler sdeSampler(Transport transport, FlowSamplerSpec spec) {
        return new SdeSampler(transport, spec.sdeMethod(), spec.diffusionForm(), spec.diffusionNorm(), spec.lastStep(),
                spec.lastStepSize(), spec.steps(), spec.shift());
    }

    /**
     * Refuses a spec whose drift, score or diffusion is non-finite at a time the sampler evaluates, whatever the
     * network outputs: it probes SiT's formulas there with a zero network output at x = 1 (finite outputs give
     * finite results wherever the path's coefficients are regular). Throws IllegalArgumentException naming the time.
     */
    public static void check(Transport transport, FlowSamplerSpec spec) {
        FlowModel zero = (x, t) -> torch.zeros_like(x);
        try (PointerScope scope = new PointerScope(); NoGradGuard guard = new NoGradGuard()) {
            Tensor one = Tensors.doubles(new double[] {1.0}, 1, 1);
            if (spec.kind() == FlowSamplerSpec.Kind.ODE) {
                FlowModel drift = transport.drift(zero);
                for (double t : odeSampler(transport, spec).grid()) {
                    if (!finite(drift, one, t)) {
                        throw refusal(transport, spec, t, spec.reverse() && t == 1
                                ? "the reversed ODE starts at t = 1, where sigma_t = 0 and a " + transport.prediction().name().toLowerCase()
                                  + " output has no score; sample forward, or use a velocity or score model"
                                : "the probability-flow drift is singular there");
                    }
                }
                return;
            }
            SdeSampler sde = sdeSampler(transport, spec);
            double[] grid = sde.grid();
            FlowModel drift = transport.sdeDrift(zero, spec.diffusionForm(), spec.diffusionNorm());
            for (double t : evaluationTimes(spec, sde, grid)) {
                if (!finite(drift, one, t)) {
                    String why = t == 0 && spec.diffusionForm() == DiffusionForm.SBDM
                            ? "the SBDM diffusion is infinite at t = 0, where SiT starts velocity models on the "
                              + transport.path().name() + " path; use diffusion form sigma, or a noise/score model"
                            : t == 1 ? "sigma_t = 0 at t = 1, so the score is undefined; use a last step (Mean, Tweedie, Euler)"
                            : "the SDE drift is singular there";
                    throw refusal(transport, spec, t, why);
                }
            }
        }
    }

    /** The times an SDE run evaluates the model at: each step's start, Heun's t + dt, and the last step's t1. */
    private static List<Double> evaluationTimes(FlowSamplerSpec spec, SdeSampler sde, double[] grid) {
        List<Double> times = new ArrayList<>();
        for (int k = 0; k + 1 < grid.length; k++) {
            times.add(grid[k]);
            if (spec.sdeMethod() == SdeMethod.HEUN) times.add(grid[k] + sde.stepSize(grid, k));
        }
        if (spec.lastStep() != LastStep.NONE) times.add(grid[grid.length - 1]);
        return times;
    }

    private static boolean finite(FlowModel f, Tensor x, double t) {
        return torch.isfinite(f.apply(x, Ts.times(x, t))).all().item_bool();
    }

    private static IllegalArgumentException refusal(Transport transport, FlowSamplerSpec spec, double t, String why) {
        return new IllegalArgumentException(String.format("%s %s sampling of a %s/%s transport would give NaN/inf at t = %s: %s",
                spec.kind(), spec.kind() == FlowSamplerSpec.Kind.ODE ? spec.odeMethod() : spec.sdeMethod() + "/" + spec.diffusionForm(),
                transport.path().name(), transport.prediction().name().toLowerCase(), t, why));
    }
}
