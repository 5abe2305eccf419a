package io.udit.sample;

import io.udit.transport.FlowModel;
import io.udit.transport.FlowSampling;
import io.udit.diffusion.ClassifierFreeGuidance;
import io.udit.diffusion.DdimSampler;
import io.udit.diffusion.DdpmSampler;
import io.udit.diffusion.DenoiserFn;
import io.udit.diffusion.DpmSolverPlusPlus;
import io.udit.diffusion.GaussianDiffusion;
import io.udit.diffusion.NoiseSource;
import io.udit.diffusion.ProgressListener;
import io.udit.diffusion.Sampler;
import io.udit.data.Seeds;
import io.udit.dist.ProcessGroup;
import io.udit.engine.Tensors;
import io.udit.model.Backbone;
import io.udit.model.Form;
import io.udit.model.ModelConfig;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Generating samples from a trained network: guidance, sampler choice, per-image seeds, batching. */
public final class Sampling {
    private Sampling() {}

    /** Progress over the whole request: images done and total, after each sampler step. */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (done, total, step, steps) -> {};

        void update(int imagesDone, int imagesTotal, int step, int steps);
    }

    /** The DDPM sampler for a request, on the request's 1000-step schedule (linear for the DiT family's checkpoints). */
    public static Sampler sampler(SampleRequest r) {
        GaussianDiffusion base = GaussianDiffusion.create("", new GaussianDiffusion.Options(r.noiseSchedule(), 1000, false, false, false));
        return switch (r.sampler()) {
            case "ddpm" -> new DdpmSampler(base.respaced(Integer.toString(r.steps())), r.clip());
            case "ddim" -> new DdimSampler(base.respaced("ddim" + r.steps()), r.eta(), r.clip());
            default -> new DpmSolverPlusPlus(base.baseSchedule(), r.steps(), DpmSolverPlusPlus.Spacing.TIME_UNIFORM, r.clip(), false, true,
                    r.sampler().equals("dpm++sde"));
        };
    }

    /** The network as a denoiser, guided when cfgScale != 1 (needs a null class), within the request's interval. */
    public static DenoiserFn denoiser(Backbone model, SampleRequest r) {
        DenoiserFn plain = model::forward;
        if (r.cfgScale() == 1.0) return plain;
        ModelConfig c = model.config();
        if (!c.hasNullClass()) throw new IllegalArgumentException("guidance needs a model trained with class dropout (a null class)");
        return ClassifierFreeGuidance.guided(plain, c.nullClass(), r.cfgScale(), r.cfgMode(), r.guidanceInterval());
    }

    /** Draws one batch: the DDPM sampler, or the flow ODE/SDE sampler of a flow model. */
    private static Tensor sampleBatch(Sampler sampler, DenoiserFn fn, SampleRequest part, long[] shape, NoiseSource noise,
                                      ProgressListener pl) {
        Tensor y = Tensors.longs(part.labels(), part.count());
        if (part.transport() == null) return sampler.sample(fn, shape, y, noise, pl);
        Tensor x = FlowSampling.sample(part.transport(), FlowModel.conditional(fn, y), part.flowSpec(), shape, ScalarType.Float, noise, pl);
        // a flow sampler's last state is the image itself: pixel models clip it to [-1, 1] as DDPM samplers clip x0
        return part.clip() ? x.clamp(new org.bytedeco.pytorch.ScalarOptional(new Scalar(-1.0)), new org.bytedeco.pytorch.ScalarOptional(new Scalar(1.0))) : x;
    }

    /**
     * Samples every image of the request, in batches, with the model in eval form. Returns (N, C, H, W) float32
     * (images in about [-1, 1], or latents).
     */
    public static Tensor generate(Backbone model, SampleRequest r, Progress progress) {
        ModelConfig c = model.config();
        long maxLabel = c.hasNullClass() ? c.nullClass() : c.numClasses() - 1;
        for (long l : r.labels()) {
            if (l < 0 || l > maxLabel) throw new IllegalArgumentException("label " + l + " out of range [0, " + maxLabel + "]");
        }
        if (model.form() != Form.EVAL) model.setForm(Form.EVAL);
        if (r.transport() != null) FlowSampling.check(r.transport(), r.flowSpec());
        Sampler sampler = r.transport() == null ? sampler(r) : null;
        DenoiserFn fn = denoiser(model, r);
        int n = r.count(), size = c.inputSize();
        Tensor out = Tensors.empty(ScalarType.Float, n, c.inChannels(), size, size);
        for (int from = 0; from < n; from += r.batchSize()) {
            int to = Math.min(n, from + r.batchSize());
            SampleRequest part = r.slice(from, to);
            final int done = from;
            try (PointerScope scope = new PointerScope(); InferenceMode guard = new InferenceMode()) {
                NoiseSource noise = perSampleNoise(part);
                ProgressListener pl = (step, total) -> progress.update(done, n, step, total);
                Tensor x = sampleBatch(sampler, fn, part, new long[] {part.count(), c.inChannels(), size, size}, noise, pl);
                out.narrow(0, from, to - from).copy_(x);
            }
            progress.update(to, n, 0, 0);
        }
        return out;
    }

    /**
     * {@link #generate} split over the ranks of a process group: rank k samples the k-th contiguous share of the
     * request and an allreduce assembles the whole on every rank. Per-image seeds make the images identical to a
     * single-process run. {@code progress} sees this rank's share only.
     */
    public static Tensor generate(Backbone model, SampleRequest r, Progress progress, ProcessGroup group) {
        if (group == null || group.worldSize() == 1) return generate(model, r, progress);
        ModelConfig c = model.config();
        int n = r.count(), world = group.worldSize(), share = (n + world - 1) / world;
        int from = Math.min(n, group.rank() * share), to = Math.min(n, from + share);
        Tensor all = Tensors.zeros(ScalarType.Float, n, c.inChannels(), c.inputSize(), c.inputSize());
        if (to > from) all.narrow(0, from, to - from).copy_(generate(model, r.slice(from, to), progress));
        group.allreduceSum(all); // the other rows are zeros on this rank: the sum is exact
        return all;
    }

    /** Noise where image i always gets the stream of its own generator, seeded by (seed, global index). */
    public static NoiseSource perSampleNoise(SampleRequest r) {
        Generator[] gens = new Generator[r.count()];
        for (int i = 0; i < gens.length; i++) gens[i] = torch.make_generator_cpu(Seeds.sampleIndex(r.seed(), r.firstIndex() + i));
        return shape -> {
            long[] one = java.util.Arrays.copyOfRange(shape, 1, shape.length);
            if (shape[0] != gens.length) throw new IllegalStateException("noise for " + shape[0] + " images, have " + gens.length);
            TensorVector parts = new TensorVector();
            for (Generator g : gens) parts.push_back(torch.randn(one, new GeneratorOptional(g), Tensors.options(ScalarType.Float)));
            return torch.stack(parts, 0);
        };
    }

    /** Images in [-1, 1] to uint8 NHWC as DiT/U-DiT's sample_ddp.py: clamp(127.5 x + 128, 0, 255).to(uint8). */
    public static Tensor toUint8Nhwc(Tensor images) {
        return images.mul(new Scalar(127.5)).add(new Scalar(128.0)).clamp(new org.bytedeco.pytorch.ScalarOptional(new Scalar(0.0)),
                new org.bytedeco.pytorch.ScalarOptional(new Scalar(255.0))).to(ScalarType.Byte).permute(0, 2, 3, 1).contiguous();
    }
}
