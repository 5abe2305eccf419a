package io.udit.train;

import io.udit.data.Dataset;
import io.udit.data.Datasets;
import io.udit.engine.Tensors;
import io.udit.eval.AdmEvaluator;
import io.udit.eval.ClassifierMetrics;
import io.udit.io.AtomicFiles;
import io.udit.io.Npz;
import io.udit.model.Backbone;
import io.udit.model.Form;
import io.udit.report.ImageGrid;
import io.udit.sample.Previews;
import io.udit.sample.SampleRequest;
import io.udit.sample.Sampling;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * Scores a model by its samples: a fixed set of labels drawn from fixed noise, judged by the classifier metrics (the
 * Fréchet distance of a judge classifier's features and the class fidelity) on image data and, given Inception weights
 * and a reference batch, by ADM's FID, sFID, Inception Score, precision and recall. The one evaluation of the
 * experiments ({@code udit experiment}) and of a run's {@code --eval-every}.
 */
public final class SampleEvaluator {
    /** Samples of every class shown in an evaluation grid. */
    static final int GRID_PER_CLASS = 8;

    private final ClassifierMetrics judge;
    private final AdmEvaluator inception;
    private final Path reference;
    private final List<String> classNames;
    private final UnaryOperator<Tensor> toPixels;

    /** The figures of one evaluation and its sample grid (PNG, also written as {@code grid_step_N.png}). */
    public record Scores(Map<String, Double> metrics, byte[] gridPng) {}

    /**
     * @param judge      the judge classifier (null: no classifier metrics, e.g. for latents)
     * @param inception  the Inception evaluator (null: no Inception metrics); needs {@code reference}
     * @param reference  the ADM reference batch the Inception metrics compare with
     * @param classNames names of the classes for the grid's rows
     * @param toPixels   samples to uint8 NHWC pictures (a VAE decoder for latents)
     */
    public SampleEvaluator(ClassifierMetrics judge, AdmEvaluator inception, Path reference, List<String> classNames,
                           UnaryOperator<Tensor> toPixels) {
        if ((inception == null) != (reference == null)) throw new IllegalArgumentException("Inception weights and a reference batch go together");
        if (judge == null && inception == null) throw new IllegalArgumentException("nothing to score with: neither a judge nor Inception weights");
        this.judge = judge;
        this.inception = inception;
        this.reference = reference;
        this.classNames = List.copyOf(classNames);
        this.toPixels = toPixels;
    }

    /**
     * The evaluator a run's {@code eval} settings ask for: the judge classifier trained on the run's data (or loaded
     * from its cache) and checked on its held-out split, and the Inception evaluator when weights are given. Files
     * and data are checked here, before training starts; a problem the user can fix is a {@link RunException}.
     */
    public static SampleEvaluator forRun(RunConfig c, Dataset data, Consumer<String> log) throws IOException {
        RunConfig.EvalSettings e = c.eval();
        ClassifierMetrics judge = null;
        boolean judgeNeeded = !RunConfig.EvalSettings.INCEPTION_METRICS.contains(e.metric()) || e.inception() == null;
        if (data.isImage()) {
            log.accept("evaluation: judge classifier for the Fréchet distance and class fidelity (trained once, then cached)");
            ClassifierMetrics.Config jc = ClassifierMetrics.Config.defaults().withEpochs(e.judgeEpochs())
                    .withMaxTrainSamples(e.judgeSamples()).withProgress(true);
            Dataset heldOut = heldOutSplit(c);
            try {
                judge = heldOut != null ? ClassifierMetrics.trainOrLoad(data, heldOut, jc, log) : ClassifierMetrics.trainOrLoad(data, jc, log);
            } catch (io.udit.eval.EvalException ex) {
                if (judgeNeeded) throw new RunException("--eval-every: " + ex.getMessage(), ex);
                log.accept("evaluation: no judge classifier (" + ex.getMessage() + "); Inception metrics only");
            }
        } else if (judgeNeeded) {
            throw new RunException("--eval-metric " + e.metric() + " needs image data; for latents give --inception WEIGHTS and"
                    + " --eval-ref REF.npz and pick an Inception metric (fid)");
        }
        AdmEvaluator adm = null;
        Path ref = null;
        if (e.inception() != null) {
            Path weights = regularFile(e.inception(), "--inception");
            ref = regularFile(e.reference(), "--eval-ref");
            adm = AdmEvaluator.load(weights, AdmEvaluator.Options.defaults().withProgress(false));
        }
        return new SampleEvaluator(judge, adm, ref, data.classNames(), Trainer.previewPixels(data));
    }

    private static Path regularFile(String name, String option) {
        Path p = Path.of(name);
        if (!Files.isRegularFile(p)) throw new RunException(option + ": " + p + " is not a readable file");
        return p;
    }

    /**
     * The held-out split of a run's data where the data has one: Fashion-MNIST's test set, another draw of the
     * generated shapes; null otherwise (the judge then holds out the last samples of the training data).
     */
    public static Dataset heldOutSplit(RunConfig c) {
        String spec = c.data().toLowerCase(java.util.Locale.ROOT);
        if (!spec.startsWith("fashion-mnist") && !spec.startsWith("synthetic")) return null;
        Datasets.Options o = new Datasets.Options().train(false).unconditional(c.unconditional()).seed(1_000_003L);
        if (c.resolution() != null) o.resolution(c.resolution());
        return Datasets.open(c.data(), o);
    }

    /** Whether this evaluator reports {@code metric}. */
    public boolean reports(String metric) {
        return RunConfig.EvalSettings.INCEPTION_METRICS.contains(metric) ? inception != null : judge != null;
    }

    /**
     * Samples {@code request}'s labels ({@code perClass} of every class, class-major) from {@code model} in its
     * inference form, scores them, and writes {@code grid_step_N.png} (and, for the Inception metrics, the samples as
     * {@code samples_step_N.npz}) into {@code dir} (null: no files, e.g. on the ranks other than 0; the Inception
     * metrics then need a temporary file of their own).
     */
    public Scores evaluate(Backbone model, SampleRequest request, int perClass, long step, Path dir) throws IOException {
        long[] labels = request.labels();
        int classes = labels.length / perClass;
        Path out = dir != null ? dir : Files.createTempDirectory("udit-eval");
        Files.createDirectories(out);
        Form before = model.form();
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            model.setForm(Form.EVAL);
            Tensor samples = Sampling.generate(model, request, Sampling.Progress.NONE);
            Map<String, Double> m = new LinkedHashMap<>();
            if (judge != null) {
                ClassifierMetrics.Report rep = judge.evaluate(samples, Tensors.longs(labels, labels.length));
                m.put("frechet_distance", rep.frechetDistance());
                m.put("fidelity", rep.fidelity());
            }
            Tensor pixels = toPixels.apply(samples);
            byte[] png = grid(pixels, labels, classes, perClass, step, request);
            if (dir != null) AtomicFiles.write(dir.resolve(String.format("grid_step_%07d.png", step)), png);
            if (inception != null) m.putAll(inceptionMetrics(pixels, labels, out, step));
            return new Scores(m, png);
        } finally {
            model.setForm(before);
            if (dir == null) deleteTree(out);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        try (var s = Files.walk(p)) {
            for (Path f : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
        }
    }

    /** Up to {@link #GRID_PER_CLASS} samples of every class, a row each, named and captioned. */
    private byte[] grid(Tensor pixels, long[] labels, int classes, int perClass, long step, SampleRequest r) throws IOException {
        int show = Math.min(GRID_PER_CLASS, perClass);
        Tensor[] rows = new Tensor[classes];
        long[] shownLabels = new long[classes * show];
        for (int c = 0; c < classes; c++) {
            rows[c] = pixels.narrow(0, (long) c * perClass, show);
            Arrays.fill(shownLabels, c * show, (c + 1) * show, labels[c * perClass]);
        }
        Tensor shown = torch.cat(new TensorVector(rows), 0);
        ImageGrid.Labels text = ImageGrid.Labels.of(Previews.caption(step, r.sampler(), r.steps(), r.cfgScale()),
                Previews.namesOf(shownLabels, classNames), show);
        return ImageGrid.png(Previews.gridOfUint8(shown, show, Previews.zoomFor((int) shown.size(1)), text));
    }

    /** FID, sFID, IS, precision and recall against the reference batch (ADM evaluator). */
    private Map<String, Double> inceptionMetrics(Tensor pixels, long[] labels, Path dir, long step) throws IOException {
        Path samples = dir.resolve(String.format("samples_step_%07d.npz", step));
        Map<String, Tensor> arrays = new LinkedHashMap<>();
        arrays.put("arr_0", pixels);
        arrays.put("arr_1", Tensors.longs(labels, labels.length));
        Npz.write(samples, arrays);
        Map<String, Object> r = inception.evaluate(samples, reference, s -> {});
        Map<String, Double> m = new LinkedHashMap<>();
        for (String k : RunConfig.EvalSettings.INCEPTION_METRICS) m.put(k, r.get(k) instanceof Number n ? n.doubleValue() : Double.NaN);
        return m;
    }
}
