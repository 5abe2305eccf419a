package io.udit.cli;

import io.udit.api.ModelFiles;
import io.udit.diffusion.ClassifierFreeGuidance;
import io.udit.dist.DistEnv;
import io.udit.dist.ProcessGroup;
import io.udit.engine.Engine;
import io.udit.engine.FileKinds;
import io.udit.model.ConfigBounds;
import io.udit.engine.Tensors;
import io.udit.io.AtomicFiles;
import io.udit.io.Npz;
import io.udit.model.ModelConfig;
import io.udit.report.ImageGrid;
import io.udit.report.ProgressBar;
import io.udit.sample.Previews;
import io.udit.sample.SampleRequest;
import io.udit.sample.Sampling;
import org.bytedeco.pytorch.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** Samples images from a checkpoint: a PNG grid and an ADM-style .npz (arr_0 uint8 NHWC, arr_1 labels). */
@Command(name = "sample", mixinStandardHelpOptions = true,
        description = "Sample from a checkpoint (ours or the reference's) into a PNG grid and an ADM-style .npz.",
        footer = {"", "Examples:", "  udit sample --weights runs/fm/checkpoints/step_0001000.pt --cfg-scale 4",
                "  udit sample --weights DiT-XL-2-256x256.pt --vae sd-vae-ft-ema --classes 207,360 --out-dir dogs",
                "  udit sample --weights SiT-XL-2-256x256.pt --vae sd-vae-ft-ema --sampler sde-euler",
                "  udit sample --weights ckpt.pt --nproc-per-node 2   (two processes, the same images as one)"})
public final class SampleCommand implements Callable<Integer> {
    @Option(names = "--weights", paramLabel = "FILE",
            description = "Required: a udit training checkpoint, or weights as .pt, .safetensors or .npz (DiT, SiT and U-DiT releases).")
    Path weights;

    @Option(names = "--checkpoint", hidden = true, paramLabel = "FILE", description = "Old name of --weights.")
    void checkpoint(Path file) {
        weights = file;
    }

    @Option(names = "--key", paramLabel = "ema|model", description = "Weights of a training checkpoint (default: ema).")
    String key;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--classes", split = ",", paramLabel = "C", description = "Class ids to sample (default: every class).")
    List<Long> classes;

    @Option(names = "--per-class", defaultValue = "8", paramLabel = "N", description = "Images per class (default ${DEFAULT-VALUE}).")
    int perClass;

    @Option(names = "--sampler", paramLabel = "NAME", description = "DDPM models: ddpm, ddim, dpm++ (DPM-Solver++ 2M, the default) or dpm++sde"
            + " (its stochastic form). Flow models: the ODE methods dopri5 (the default, adaptive, as SiT), euler, midpoint, rk4, heun2, or"
            + " the SDE methods sde-euler, sde-heun.")
    String sampler;

    @Option(names = "--sampler-steps", paramLabel = "N", description = "Sampler steps (default: 250 ddpm, 50 ddim, 25 dpm++ and"
            + " dpm++sde); flow samplers: grid points, as SiT's num_steps (default 250).")
    Integer steps;

    @Option(names = "--steps", hidden = true, paramLabel = "N", description = "Old name of --sampler-steps.")
    void steps(int n) {
        steps = n;
    }

    @Option(names = "--eta", defaultValue = "0", paramLabel = "X", description = "DDIM eta (default ${DEFAULT-VALUE}).")
    double eta;

    @Option(names = "--cfg-scale", defaultValue = "1.0", paramLabel = "X",
            description = "Classifier-free guidance scale (default ${DEFAULT-VALUE} = no guidance; 1.5 for DiT's FID, 4 to look at).")
    double cfgScale;

    @Option(names = "--cfg-mode", defaultValue = "standard", paramLabel = "standard|reference",
            description = "standard (guide all latent channels; the default) or reference (channels 0-2 only, as U-DiT/DiT's"
                    + " forward_with_cfg).")
    String cfgMode;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "N",
            description = "Seed of the noise; image i of a run gets its own stream, so batches and processes do not change it (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--guidance-interval", split = ",", paramLabel = "LO,HI",
            description = "Guide only where the normalised time s (0 = noise, 1 = data) is in [LO, HI] (Kynkaenniemi et al. 2024;"
                    + " default 0,1 = everywhere). DDPM timestep i has s = 1 - (i+1)/1000.")
    List<Double> guidanceInterval;

    @Option(names = "--atol", paramLabel = "X", description = "Flow models, dopri5: absolute tolerance (default 1e-6, as SiT).")
    Double atol;

    @Option(names = "--rtol", paramLabel = "X", description = "Flow models, dopri5: relative tolerance (default 1e-3, as SiT).")
    Double rtol;

    @Option(names = "--timestep-shift", paramLabel = "X", description = "Flow models: shift of the time grid, t' = t / (shift - (shift - 1) t);"
            + " above 1 puts more steps near the noise end (default 1 = SiT's uniform grid).")
    Double timestepShift;

    @Option(names = "--diffusion-form", paramLabel = "NAME", description = "Flow SDE samplers: constant, SBDM, sigma (default), linear,"
            + " decreasing or increasing-decreasing.")
    String diffusionForm;

    @Option(names = "--diffusion-norm", paramLabel = "X", description = "Flow SDE samplers: scale of the diffusion (default 1).")
    Double diffusionNorm;

    @Option(names = "--last-step", paramLabel = "NAME", description = "Flow SDE samplers: Mean (default), Tweedie, Euler or None.")
    String lastStep;

    @Option(names = "--last-step-size", paramLabel = "X", description = "Flow SDE samplers: size of the last step (default 0.04).")
    Double lastStepSize;

    @Option(names = "--noise-schedule", paramLabel = "NAME", description = "linear, cosine or cosine-shiftK (default: what the checkpoint recorded, else linear).")
    String schedule;

    @Option(names = "--batch", defaultValue = "32", paramLabel = "N", description = "Images per sampler batch (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--clip", arity = "1", paramLabel = "true|false", description = "Clip predicted x0 to [-1, 1] (default: true for pixel models, false for 4-channel latent models).")
    Boolean clip;

    @Option(names = "--nproc-per-node", paramLabel = "N",
            description = "Shard the sampling over N processes on this machine, with the same images as one (default 1).")
    Integer nprocPerNode;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    // no defaultValue: picocli would apply it after the hidden --out alias below had set the folder
    @Option(names = "--out-dir", paramLabel = "DIR", description = "Output folder for grid.png and samples.npz (default samples).")
    Path out = Path.of("samples");

    @Option(names = "--out", hidden = true, paramLabel = "DIR", description = "Old name of --out-dir.")
    void out(Path dir) {
        out = dir;
    }

    @Mixin
    DecodeOptions decodeOptions;

    @picocli.CommandLine.Mixin
    VerifyOption verifyOption;

    /** Limits of the numeric options, checked before the checkpoint is read. */
    private void checkOptions() {
        Checks.inRange("--per-class", perClass, 1, 100_000);
        Checks.inRange("--sampler-steps", steps, 1, 100_000);
        Checks.inRange("--batch", batch, 1, 65_536);
        Checks.inRange("--eta", eta, 0, 1000);
        Checks.inRange("--cfg-scale", cfgScale, 0, 1000);
        Checks.inRange("--nproc-per-node", nprocPerNode, 1, 1024);
        decodeOptions.check();
        if (atol != null) Checks.inRange("--atol", atol, 1e-30, 0.5);
        if (rtol != null) Checks.inRange("--rtol", rtol, 1e-30, 0.5);
        if (timestepShift != null) Checks.inRange("--timestep-shift", timestepShift, 1e-3, 1000);
        if (diffusionNorm != null) Checks.inRange("--diffusion-norm", diffusionNorm, 0, 1000);
        if (lastStepSize != null) Checks.inRange("--last-step-size", lastStepSize, 1e-6, 0.5);
        if (guidanceInterval != null) {
            if (guidanceInterval.size() != 2) throw new UserError("--guidance-interval takes two numbers LO,HI, got " + guidanceInterval.size());
            Checks.inRange("--guidance-interval", guidanceInterval.get(0), 0, 1);
            Checks.inRange("--guidance-interval", guidanceInterval.get(1), guidanceInterval.get(0), 1);
        }
        checkName("--diffusion-form", diffusionForm, io.udit.transport.DiffusionForm::parse);
        checkName("--last-step", lastStep, io.udit.transport.LastStep::parse);
        if (classes != null) for (long k : classes) Checks.inRange("--classes", k, 0, ConfigBounds.MAX_CLASSES - 1);
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new UserError("--out-dir " + out + " is " + FileKinds.describe(out) + ", not a directory (the output folder for grid.png and samples.npz)");
        }
        if (weights == null) throw new UserError("missing --weights FILE (a training checkpoint or a weights file)");
        Checks.regularFile("--weights", weights);
    }

    /** A named choice that {@code parse} accepts (or null: the default); otherwise exit 2 naming the option. */
    private static void checkName(String option, String value, java.util.function.Function<String, ?> parse) {
        if (value == null) return;
        try {
            parse.apply(value);
        } catch (IllegalArgumentException e) {
            throw new UserError(option + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Integer call() throws Exception {
        checkOptions();
        Engine.init();
        ModelFiles.Loaded loaded;
        try {
            loaded = ModelFiles.load(weights, key, modelOptions.resolveOrNull(), verifyOption.verify(),
                    recorded -> modelOptions.requireAgreement(recorded, "the config recorded in " + weights));
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage(), e);
        }
        ModelConfig c = loaded.config();
        io.udit.vae.Vae vae = decodeOptions.loadVae();
        if (vae != null && vae.config().latentChannels() != c.inChannels())
            throw new UserError("the model makes latents of " + c.inChannels() + " channels but the VAE " + decodeOptions.vae
                    + " decodes " + vae.config().latentChannels());
        List<Long> cls = classes != null ? classes : range(c.numClasses());
        long[] labels = new long[cls.size() * perClass];
        for (int i = 0; i < cls.size(); i++) for (int j = 0; j < perClass; j++) labels[i * perClass + j] = cls.get(i);
        io.udit.transport.Transport transport = loaded.transport();
        String samplerName = sampler != null ? sampler : transport != null ? "dopri5" : "dpm++";
        int s = steps != null ? steps : transport != null ? 250 : switch (samplerName) { case "ddpm" -> 250; case "ddim" -> 50; default -> 25; };
        ClassifierFreeGuidance.Mode mode = switch (cfgMode) {
            case "standard" -> ClassifierFreeGuidance.Mode.STANDARD;
            case "reference" -> ClassifierFreeGuidance.Mode.REFERENCE;
            default -> throw new UserError("--cfg-mode must be standard or reference");
        };
        boolean doClip = clip != null ? clip : c.inChannels() != 4;
        SampleRequest req;
        try {
            SampleRequest.FlowOptions d = SampleRequest.FlowOptions.DEFAULTS;
            req = SampleRequest.builder(labels).sampler(samplerName).steps(s).cfgScale(cfgScale).cfgMode(mode).seed(seed).clip(doClip)
                    .eta(eta).batchSize(batch).noiseSchedule(schedule != null ? schedule : loaded.noiseSchedule()).transport(transport)
                    .guidanceInterval(guidanceInterval != null ? guidanceInterval.get(0) : 0, guidanceInterval != null ? guidanceInterval.get(1) : 1)
                    .flow(new SampleRequest.FlowOptions(atol != null ? atol : d.atol(), rtol != null ? rtol : d.rtol(),
                            timestepShift != null ? timestepShift : d.shift(), diffusionForm != null ? diffusionForm : d.diffusionForm(),
                            diffusionNorm != null ? diffusionNorm : d.diffusionNorm(), lastStep != null ? lastStep : d.lastStep(),
                            lastStepSize != null ? lastStepSize : d.lastStepSize()))
                    .build();
            if (transport != null) io.udit.transport.FlowSampling.check(transport, req.flowSpec());
        } catch (IllegalArgumentException e) {
            throw new UserError((e.getMessage().startsWith("sampler ") ? "--" : "") + e.getMessage(), e);
        }
        DistEnv env = Distributed.environment(60_000);
        if (nprocPerNode != null && nprocPerNode > 1 && !env.isDistributed()) return relaunch(nprocPerNode);
        Files.createDirectories(out);
        long t0 = System.nanoTime();
        Tensor u8;
        try {
            u8 = env.isDistributed() ? sampleSharded(loaded, req, env, vae) : sampleHere(loaded, req, req.count(), vae);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage(), e);
        }
        if (u8 == null) return 0; // a rank other than 0: rank 0 writes the results
        double secs = (System.nanoTime() - t0) / 1e9;
        Path grid = out.resolve("grid.png");
        AtomicFiles.write(grid, ImageGrid.png(Previews.gridOfUint8(u8, perClass, Previews.zoomFor((int) u8.size(1)))));
        Map<String, Tensor> arrays = new LinkedHashMap<>();
        arrays.put("arr_0", u8);
        arrays.put("arr_1", Tensors.longs(labels, labels.length));
        Path npz = out.resolve("samples.npz");
        Npz.write(npz, arrays);
        System.out.printf("wrote %s and %s: %d images in %.1f s (%s, %d steps, cfg %.2f %s%s)%n", grid.toAbsolutePath(), npz.toAbsolutePath(), labels.length, secs,
                req.sampler(), s, cfgScale, cfgMode, env.isDistributed() ? ", " + env.worldSize() + " processes" : "");
        return 0;
    }

    /** Samples a request in this process (decoding latents with --vae); returns uint8 NHWC. */
    private Tensor sampleHere(ModelFiles.Loaded loaded, SampleRequest req, int total, io.udit.vae.Vae vae) {
        Tensor x;
        try (ProgressBar bar = new ProgressBar("sample", total)) {
            x = Sampling.generate(loaded.model(), req, (done, all, step, stepsTotal) -> bar.set("step", step + "/" + stepsTotal).update(done));
        }
        return vae != null ? decodeOptions.decodeToUint8(vae, x, "samples") : Sampling.toUint8Nhwc(x);
    }

    /**
     * One rank of a sharded run: the images are cut into the same fixed batches as a single process would use
     * (batch j holds images [jB, (j+1)B)), rank r samples batches j = r, r + W, ...; every image has its own seed,
     * so the merged result does not depend on the number of processes. Rank 0 merges the parts.
     */
    private Tensor sampleSharded(ModelFiles.Loaded loaded, SampleRequest req, DistEnv env, io.udit.vae.Vae vae) throws Exception {
        int n = req.count(), b = req.batchSize(), batches = (n + b - 1) / b;
        Path parts = out.resolve(".parts");
        try (ProcessGroup pg = Distributed.joinGroup(env)) {
            pg.checkSameConfig(weights.toAbsolutePath() + "|" + java.util.Arrays.toString(req.labels()) + "|" + req.sampler()
                    + "|" + req.steps() + "|" + req.cfgScale() + "|" + req.guidanceLow() + "," + req.guidanceHigh() + "|" + req.flow() + "|" + req.seed() + "|" + req.batchSize() + "|" + req.noiseSchedule()
                    + "|" + (vae == null ? "" : decodeOptions.vae.toAbsolutePath()));
            Files.createDirectories(parts);
            Map<String, Tensor> mine = new LinkedHashMap<>();
            int myCount = 0;
            for (int j = env.rank(); j < batches; j += env.worldSize()) myCount += Math.min(n, (j + 1) * b) - j * b;
            try (ProgressBar bar = env.isMain() ? new ProgressBar("sample (rank 0)", myCount) : null) {
                int done = 0;
                for (int j = env.rank(); j < batches; j += env.worldSize()) {
                    SampleRequest part = req.slice(j * b, Math.min(n, (j + 1) * b));
                    Tensor x = Sampling.generate(loaded.model(), part, Sampling.Progress.NONE);
                    mine.put("batch_" + j, vae != null ? decodeOptions.decodeToUint8Quietly(vae, x, "samples") : Sampling.toUint8Nhwc(x));
                    done += part.count();
                    if (bar != null) bar.update(done);
                }
            }
            Npz.write(parts.resolve("rank_" + env.rank() + ".npz"), mine);
            pg.barrier();
            if (!env.isMain()) return null;
            Tensor[] ordered = new Tensor[batches];
            for (int r = 0; r < env.worldSize(); r++) {
                for (var e : Npz.read(parts.resolve("rank_" + r + ".npz")).entrySet()) {
                    ordered[Integer.parseInt(e.getKey().substring("batch_".length()))] = e.getValue();
                }
            }
            for (int j = 0; j < batches; j++) if (ordered[j] == null) throw new IllegalStateException("batch " + j + " missing from the parts");
            Tensor all = org.bytedeco.pytorch.global.torch.cat(new org.bytedeco.pytorch.TensorVector(ordered), 0);
            try (var files = Files.list(parts)) {
                for (Path f : (Iterable<Path>) files::iterator) Files.deleteIfExists(f);
            }
            Files.deleteIfExists(parts);
            return all;
        }
    }

    /** --nproc-per-node N without a launcher: start the job through `udit launch`. */
    private int relaunch(int n) {
        List<String> args = new ArrayList<>(List.of("launch", "--nproc-per-node", Integer.toString(n), "--")); // originalArgs starts with "sample"
        List<String> original = spec.commandLine().getParseResult().originalArgs();
        for (int i = 0; i < original.size(); i++) {
            String a = original.get(i);
            if (a.equals("--nproc-per-node")) {
                i++;
                continue;
            }
            if (a.startsWith("--nproc-per-node=")) continue;
            args.add(a);
        }
        return Main.run(args.toArray(new String[0]));
    }

    private static List<Long> range(int n) {
        List<Long> out = new ArrayList<>();
        for (long i = 0; i < n; i++) out.add(i);
        return out;
    }
}
