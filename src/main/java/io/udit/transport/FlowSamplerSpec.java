package io.udit.transport;

/**
 * How to sample a flow model: an ODE (probability flow) or an SDE run of SiT's samplers, with every option SiT's
 * sample.py offers plus a timestep shift of the grid. Fields not used by the kind are ignored (ODEs have no last
 * step or diffusion; SDEs have no tolerances and always run forward).
 *
 * @param kind          ODE or SDE
 * @param odeMethod     euler, midpoint, rk4 (3/8 rule), heun2 or dopri5 (ODE)
 * @param sdeMethod     Euler (Euler-Maruyama) or Heun (SDE)
 * @param steps         grid points: fixed ODE methods take steps - 1 steps, dopri5 reports at them; the SDE takes
 *                      steps - 1 stochastic steps and the last step
 * @param atol          dopri5's absolute tolerance
 * @param rtol          dopri5's relative tolerance
 * @param reverse       ODE only: integrate data -> noise (encoding)
 * @param shift         timestep shift of the grid ({@link TimeGrid#shift}); 1 = SiT's uniform grid
 * @param diffusionForm SDE diffusion coefficient form
 * @param diffusionNorm SDE diffusion_norm
 * @param lastStep      SDE last step
 * @param lastStepSize  SDE last step size (SiT: 0.04; ignored for {@link LastStep#NONE})
 */
public record FlowSamplerSpec(Kind kind, OdeMethod odeMethod, SdeMethod sdeMethod, int steps, double atol, double rtol,
                              boolean reverse, double shift, DiffusionForm diffusionForm, double diffusionNorm,
                              LastStep lastStep, double lastStepSize) {
    public enum Kind { ODE, SDE }

    public FlowSamplerSpec {
        if (steps < 2) throw new IllegalArgumentException("a flow sampler needs at least 2 grid points: " + steps);
        if (!(shift > 0)) throw new IllegalArgumentException("timestep shift must be > 0: " + shift);
        if (kind == Kind.SDE && reverse) throw new IllegalArgumentException("the SDE sampler runs forward only (noise -> data)");
        if (kind == Kind.ODE && odeMethod == OdeMethod.DOPRI5 && !(atol > 0 && rtol > 0)) {
            throw new IllegalArgumentException("dopri5 needs atol > 0 and rtol > 0");
        }
    }

    /** An ODE run; SiT's sample.py defaults are dopri5, 250 steps (points), atol 1e-6, rtol 1e-3. */
    public static FlowSamplerSpec ode(OdeMethod method, int steps, double atol, double rtol, double shift) {
        return new FlowSamplerSpec(Kind.ODE, method, SdeMethod.EULER, steps, atol, rtol, false, shift,
                DiffusionForm.SIGMA, 1.0, LastStep.MEAN, 0.04);
    }

    /**
     * An SDE run; SiT's sample.py defaults are Euler, 250 steps, diffusion form sigma, norm 1, last step Mean of
     * size 0.04.
     */
    public static FlowSamplerSpec sde(SdeMethod method, int steps, DiffusionForm form, double norm, LastStep last,
                                      double lastStepSize, double shift) {
        return new FlowSamplerSpec(Kind.SDE, OdeMethod.DOPRI5, method, steps, 1e-6, 1e-3, false, shift, form, norm, last, lastStepSize);
    }

    /** This spec run data -> noise (ODE only). */
    public FlowSamplerSpec reversed() {
        return new FlowSamplerSpec(kind, odeMethod, sdeMethod, steps, atol, rtol, true, shift, diffusionForm, diffusionNorm,
                lastStep, lastStepSize);
    }

    /** Model evaluations per image (-1 for dopri5, which adapts). */
    public int modelEvaluations() {
        if (kind == Kind.ODE) return odeMethod == OdeMethod.DOPRI5 ? -1 : odeMethod.evaluationsPerStep() * (steps - 1);
        int last = lastStep == LastStep.NONE ? 0 : 1;
        return sdeMethod.evaluationsPerStep() * (steps - 1) + last;
    }
}
