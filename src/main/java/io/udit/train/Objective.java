package io.udit.train;

import io.udit.diffusion.DenoiserFn;
import io.udit.diffusion.DiffusionLoss;
import io.udit.diffusion.GaussianDiffusion;
import io.udit.engine.Tensors;
import io.udit.transport.FlowModel;
import io.udit.transport.TimestepSampling;
import io.udit.transport.Transport;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * What the network learns: DDPM's noise prediction with the hybrid loss (the paper), or flow matching with SiT's
 * transport. An objective draws a step's times and noise for the whole global batch and scores one micro-batch.
 */
sealed interface Objective permits Objective.Ddpm, Objective.Flow {
    /** The step's timesteps (DDPM: integers; flow: SiT times in [0, 1]) and noise for {@code shape[0]} samples. */
    Draws draw(Generator g, long[] shape);

    /** Per-sample loss, and the MSE and VLB terms where the objective has them (else null). */
    GaussianDiffusion.Losses loss(DenoiserFn net, Tensor x, Tensor t, Tensor noise, Tensor y);

    /** The transport of a flow objective, for sampling previews; null for DDPM. */
    Transport transport();

    record Draws(Tensor t, Tensor noise) {}

    static Objective of(RunConfig c) {
        if (c.objective().equals("flow")) {
            RunConfig.FlowSettings f = c.flow();
            Transport tr = c.transport();
            TimestepSampling ts = f.timestepSampling().equals("logit-normal")
                    ? TimestepSampling.logitNormal(f.logitNormalLocation(), f.logitNormalScale()) : TimestepSampling.uniform();
            return new Flow(tr, ts);
        }
        GaussianDiffusion d = GaussianDiffusion.create("", new GaussianDiffusion.Options(c.noiseSchedule(), c.diffusionSteps(), false, false, false));
        return new Ddpm(new DiffusionLoss(d, c.minSnrGamma()));
    }

    /** DDPM: uniform integer timesteps, then the noise. */
    record Ddpm(DiffusionLoss diffusionLoss) implements Objective {
        @Override
        public Draws draw(Generator g, long[] shape) {
            GeneratorOptional go = new GeneratorOptional(g);
            Tensor t = torch.randint(diffusionLoss.diffusion().numTimesteps(), new long[] {shape[0]}, go, Tensors.options(ScalarType.Long));
            return new Draws(t, torch.randn(shape, go, Tensors.options(ScalarType.Float)));
        }

        @Override
        public GaussianDiffusion.Losses loss(DenoiserFn net, Tensor x, Tensor t, Tensor noise, Tensor y) {
            return diffusionLoss.perSample(net, x, t, y, noise);
        }

        @Override
        public Transport transport() {
            return null;
        }
    }

    /** Flow matching: the noise x0, then t on the training interval (SiT's order). */
    record Flow(Transport transport, TimestepSampling sampling) implements Objective {
        @Override
        public Draws draw(Generator g, long[] shape) {
            Tensor x0 = torch.randn(shape, new GeneratorOptional(g), Tensors.options(ScalarType.Float));
            return new Draws(sampling.sample(shape[0], transport.trainingInterval(), g, ScalarType.Float), x0);
        }

        @Override
        public GaussianDiffusion.Losses loss(DenoiserFn net, Tensor x, Tensor t, Tensor noise, Tensor y) {
            return new GaussianDiffusion.Losses(transport.trainingLosses(FlowModel.conditional(net, y), x, t, noise).loss(), null, null);
        }
    }
}
