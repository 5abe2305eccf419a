package io.udit.bench;

import io.udit.diffusion.GaussianDiffusion;
import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.model.Backbone;
import io.udit.model.Complexity;
import io.udit.model.Form;
import io.udit.model.ModelConfig;
import io.udit.sample.SampleRequest;
import io.udit.sample.Sampling;
import io.udit.train.BlockwiseAdamW;
import io.udit.train.FusedAdamW;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Times forward passes, training steps or whole sampling runs: warm-up, repeated runs, median and spread, images/s,
 * achieved GFLOP/s (2 x MACs of the graph that ran / time) and its share of the machine's fp32 peak.
 */
public final class Benchmark {
    /** Default fp32 peak for the share-of-peak figure (2 AVX2 cores x 2 FMA x 8 lanes x 2 x ~2.45 GHz); --peak-gflops sets the actual machine's. */
    public static final double DEFAULT_PEAK_GFLOPS = 157.0;

    public enum Mode { FORWARD, TRAIN, SAMPLE }

    /**
     * @param trainProfile          train mode: also profile the forward and backward of a step by section
     * @param checkpointActivations train mode: recompute each U-DiT block in the backward instead of keeping its
     *                              activations (see Backbone.setActivationCheckpointing)
     */
    public record Settings(Mode mode, int batch, int warmup, int repeats, String sampler, int sampleSteps, double peakGflops,
                           boolean trainProfile, boolean checkpointActivations) {
        public Settings(Mode mode, int batch, int warmup, int repeats, String sampler, int sampleSteps, double peakGflops) {
            this(mode, batch, warmup, repeats, sampler, sampleSteps, peakGflops, false, false);
        }
    }

    private Benchmark() {}

    public static Map<String, Object> run(String name, ModelConfig config, Settings s) {
        Engine.init();
        Backbone model = config.build(0);
        Complexity cx = Complexity.of(config);
        double macsPerImage;
        Runnable op;
        List<double[]> phases = new ArrayList<>(); // train mode: forward+loss, backward, optimizer seconds per step
        long[] shape = {s.batch(), config.inChannels(), config.inputSize(), config.inputSize()};
        Tensor x = torch.randn(shape), t = torch.randint(1000, new long[] {s.batch()}), y = torch.randint(config.numClasses(), new long[] {s.batch()});
        switch (s.mode()) {
            case FORWARD -> {
                model.setForm(Form.EVAL);
                macsPerImage = cx.macsFolded() + cx.elementwise();
                op = () -> {
                    try (PointerScope scope = new PointerScope(); InferenceMode g = new InferenceMode()) {
                        model.forward(x, t, y);
                    }
                };
            }
            case TRAIN -> {
                model.setForm(Form.TRAIN);
                model.setActivationCheckpointing(s.checkpointActivations());
                // forward + backward ~ 3x the forward MACs (each weight gradient and input gradient costs one forward)
                macsPerImage = 3.0 * (cx.macsTrain() + cx.elementwise());
                // the trainer's optimizer with the run defaults (lr 1e-4, betas 0.9/0.999, no weight decay)
                FusedAdamW opt = new FusedAdamW(model.trainableParameters(), 1e-4, 0.9, 0.999, 0);
                // with checkpointing as the trainer does: each block updated within the backward (the optimizer
                // phase then holds only the parameters outside the blocks), its gradient norm measured on the way
                BlockwiseAdamW blockwise = s.checkpointActivations() ? new BlockwiseAdamW(opt) : null;
                model.setBlockGradientSink(blockwise);
                TensorVector params = new TensorVector(model.trainableParameters().toArray(new Tensor[0]));
                GaussianDiffusion diffusion = GaussianDiffusion.create("");
                Tensor noise = torch.randn(shape);
                op = () -> {
                    try (PointerScope scope = new PointerScope()) {
                        long t0 = System.nanoTime();
                        opt.zeroGrad();
                        if (blockwise != null) blockwise.begin();
                        Tensor loss = diffusion.trainingLosses(model::forward, x, t, y, noise).loss().mean();
                        long t1 = System.nanoTime();
                        loss.backward();
                        long t2 = System.nanoTime();
                        if (blockwise != null) {
                            blockwise.gradientNorm(params);
                            blockwise.finish();
                        } else {
                            opt.step();
                        }
                        phases.add(new double[] {(t1 - t0) / 1e9, (t2 - t1) / 1e9, (System.nanoTime() - t2) / 1e9});
                    }
                };
            }
            default -> {
                model.setForm(Form.EVAL);
                long[] labels = Tensors.toLongs(y);
                SampleRequest req = SampleRequest.builder(labels).sampler(s.sampler()).steps(s.sampleSteps()).batchSize(s.batch()).build();
                int evals = Sampling.sampler(req).modelEvaluations();
                macsPerImage = (double) evals * (cx.macsFolded() + cx.elementwise());
                op = () -> Sampling.generate(model, req, Sampling.Progress.NONE);
            }
        }
        for (int i = 0; i < s.warmup(); i++) op.run();
        CpuUsage cpu = CpuUsage.start();
        double[] secs = new double[s.repeats()];
        for (int i = 0; i < s.repeats(); i++) {
            long t0 = System.nanoTime();
            op.run();
            secs[i] = (System.nanoTime() - t0) / 1e9;
        }
        double other = cpu.otherShare();
        double[] sorted = secs.clone();
        Arrays.sort(sorted);
        double median = median(secs);
        double gflops = 2.0 * macsPerImage * s.batch() / median / 1e9;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", name);
        m.put("mode", s.mode().name().toLowerCase());
        m.put("batch", s.batch());
        if (s.mode() == Mode.SAMPLE) {
            m.put("sampler", s.sampler());
            m.put("sampler_steps", s.sampleSteps());
        }
        m.put("repeats", s.repeats());
        m.put("warmup", s.warmup());
        m.put("median_s", round(median, 4));
        m.put("min_s", round(sorted[0], 4));
        m.put("max_s", round(sorted[sorted.length - 1], 4));
        m.put("spread_pct", round(100 * (sorted[sorted.length - 1] - sorted[0]) / median, 1));
        m.put("times_s", roundAll(secs));
        m.put("images_per_s", round(s.batch() / median, 3));
        m.put("gmacs_per_image", round(macsPerImage / 1e9, 3));
        m.put("achieved_gflops", round(gflops, 1));
        m.put("peak_gflops", s.peakGflops());
        m.put("share_of_peak", round(gflops / s.peakGflops(), 3));
        m.put("peak_rss_mb", round(Rss.peak() / 1e6, 0));
        m.put("threads", Engine.threadSettings());
        if (s.mode() == Mode.TRAIN) {
            m.put("activation_checkpointing", s.checkpointActivations());
            m.put("blockwise_update", s.checkpointActivations()); // AdamW per block within the backward (BlockwiseAdamW)
        }
        m.put("other_processes_cpu_share", round(other, 3));
        m.put("quiet_machine", other < 0.05);
        if (s.mode() == Mode.TRAIN) {
            // where a training step goes, median per phase over the timed steps (the warm-up steps left out)
            List<double[]> timed = phases.subList(phases.size() - s.repeats(), phases.size());
            Map<String, Object> ph = new LinkedHashMap<>();
            String[] names = {"forward_and_loss_s", "backward_s", "optimizer_s"};
            for (int k = 0; k < names.length; k++) {
                double[] v = new double[timed.size()];
                for (int i = 0; i < v.length; i++) v[i] = timed.get(i)[k];
                ph.put(names[k], round(median(v), 4));
            }
            m.put("train_phases", ph);
            if (s.trainProfile() && config instanceof io.udit.model.UDiTConfig uc) {
                m.put("train_profile", trainProfile(model, x, t, y, uc, s));
            }
        }
        if (s.mode() == Mode.FORWARD && model instanceof io.udit.model.UDiT && config instanceof io.udit.model.UDiTConfig uc) {
            m.put("profile", profile(model, x, t, y, uc, s, median));
        }
        return m;
    }

    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /**
     * Forward time by section, own time only, with each section's MACs and achieved GFLOP/s where it has MACs:
     * which op classes keep the network from running at the speed of its FLOPs.
     */
    static List<Map<String, Object>> profile(Backbone model, Tensor x, Tensor t, Tensor y, io.udit.model.UDiTConfig c,
                                             Settings s, double median) {
        io.udit.model.SectionTimer timer = new io.udit.model.SectionTimer();
        int runs = Math.max(2, Math.min(5, s.repeats()));
        for (int i = 0; i < runs; i++) {
            try (PointerScope scope = new PointerScope(); InferenceMode g = new InferenceMode()) {
                timer.time("total", () -> model.forward(x, t, y, timer));
            }
        }
        Map<String, Double> secs = timer.seconds();
        Map<String, Long> macs = Complexity.uditSectionMacs(c);
        double total = 0;
        for (double v : secs.values()) total += v;
        List<Map<String, Object>> rows = new ArrayList<>();
        for (var e : secs.entrySet()) {
            double perRun = e.getValue() / runs;
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("section", e.getKey().equals("total") ? "other (glue, copies, small ops)" : e.getKey());
            r.put("seconds", round(perRun, 4));
            r.put("share", round(e.getValue() / total, 3));
            Long mac = macs.get(e.getKey());
            if (mac != null) {
                double gflops = 2.0 * mac * s.batch() / perRun / 1e9;
                r.put("gmacs", round(mac * (double) s.batch() / 1e9, 3));
                r.put("gflops", round(gflops, 1));
                r.put("share_of_peak", round(gflops / s.peakGflops(), 3));
            }
            rows.add(r);
        }
        rows.sort((a, b) -> Double.compare((Double) b.get("seconds"), (Double) a.get("seconds")));
        return rows;
    }

    /**
     * A training step's forward and backward by section (TrainProfiler): seconds, and GFLOP/s where the section has
     * MACs (the backward counted as 2 x the forward's MACs: the input and the weight gradient), so that the
     * memory-bound share of the backward shows.
     */
    static Map<String, Object> trainProfile(Backbone model, Tensor x, Tensor t, Tensor y, io.udit.model.UDiTConfig c, Settings s) {
        TrainProfiler p = new TrainProfiler();
        GaussianDiffusion diffusion = GaussianDiffusion.create("");
        Tensor noise = torch.randn(Tensors.shape(x));
        int runs = Math.max(1, Math.min(3, s.repeats()));
        double fwd = 0, bwd = 0;
        for (int i = 0; i < runs; i++) {
            try (PointerScope scope = new PointerScope()) {
                long t0 = System.nanoTime();
                Tensor loss = p.timeTotal(() -> diffusion.trainingLosses((a, b, cc) -> model.forward(a, b, cc, p), x, t, y, noise).loss().mean());
                fwd += (System.nanoTime() - t0) / 1e9;
                bwd += p.backward(loss::backward);
            }
            for (Tensor w : model.trainableParameters()) w.mutable_grad().reset();
        }
        Map<String, Long> macs = new LinkedHashMap<>(Complexity.uditSectionMacs(c));
        macs.put("ffn fold", Complexity.uditFoldMacsPerStep(c, s.batch()) / s.batch());
        Map<String, Double> fs = p.forwardSeconds(), bs = p.backwardSeconds();
        java.util.Set<String> names = new java.util.LinkedHashSet<>(bs.keySet());
        names.addAll(fs.keySet());
        List<Map<String, Object>> rows = new ArrayList<>();
        double memoryBound = 0;
        for (String name : names) {
            double f = fs.getOrDefault(name, 0.0) / runs, b = bs.getOrDefault(name, 0.0) / runs;
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("section", name.equals("total") ? TrainProfiler.OTHER : name);
            r.put("forward_s", round(f, 4));
            r.put("backward_s", round(b, 4));
            r.put("backward_share", round(b * runs / bwd, 3));
            Long mac = macs.get(name);
            if (mac != null && mac > 0) {
                double g = mac * (double) s.batch() / 1e9;
                r.put("forward_gmacs", round(g, 3));
                if (f > 0) r.put("forward_gflops", round(2 * g / f, 1));
                if (b > 0) r.put("backward_gflops", round(2 * 2 * g / b, 1));
            } else {
                memoryBound += b;
            }
            rows.add(r);
        }
        // "total" and OTHER are the same row once renamed: merge them
        Map<String, Map<String, Object>> merged = new LinkedHashMap<>();
        for (Map<String, Object> r : rows) {
            merged.merge((String) r.get("section"), r, (a, b) -> {
                for (String k : List.of("forward_s", "backward_s", "backward_share")) {
                    a.put(k, round((Double) a.get(k) + (Double) b.get(k), 4));
                }
                return a;
            });
        }
        List<Map<String, Object>> out = new ArrayList<>(merged.values());
        out.sort((a, b) -> Double.compare((Double) b.get("backward_s"), (Double) a.get("backward_s")));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", "gradient hooks on section outputs, timeline attribution (see TrainProfiler)");
        m.put("steps", runs);
        m.put("forward_s", round(fwd / runs, 4));
        m.put("backward_s", round(bwd / runs, 4));
        m.put("backward_memory_bound_share", round(memoryBound * runs / bwd, 3));
        m.put("sections", out);
        return m;
    }

    static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    private static List<Double> roundAll(double[] v) {
        List<Double> out = new ArrayList<>();
        for (double d : v) out.add(round(d, 4));
        return out;
    }
}
