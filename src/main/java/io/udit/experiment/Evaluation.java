package io.udit.experiment;

import io.udit.eval.ClassifierMetrics;
import io.udit.sample.SampleRequest;
import io.udit.train.ConfigKeys;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How every arm is scored: the sampler, its steps and guidance scale, images per class, the training fractions at
 * which to evaluate, the seed of the evaluation noise (the same for every arm and seed, so every model is scored on
 * the same noise) and the judge classifier's training settings.
 */
public record Evaluation(String sampler, int steps, double cfgScale, int perClass, List<Double> fractions, long seed,
                         int judgeEpochs, int judgeMaxTrainSamples, int judgeWidth) {
    /** The most evaluation points per run (README, Limits). */
    public static final int MAX_FRACTIONS = 100;

    static final List<String> KEYS = List.of("sampler", "steps", "cfg_scale", "per_class", "fractions", "seed", "judge");
    static final List<String> JUDGE_KEYS = List.of("epochs", "max_train_samples", "width");

    /** The defaults: dpm++ 20 steps, guidance 4, 20 images per class, fractions 0.25/0.5/1, the demo's judge. */
    public static Evaluation defaults() {
        ClassifierMetrics.Config j = ClassifierMetrics.Config.defaults();
        return new Evaluation("dpm++", 20, 4.0, 20, List.of(0.25, 0.5, 1.0), 20_260_000L, j.epochs(), j.maxTrainSamples(), j.baseWidth());
    }

    public Evaluation {
        fractions = List.copyOf(fractions);
        if (!SampleRequest.DDPM_SAMPLERS.contains(sampler) && !SampleRequest.FLOW_SAMPLERS.contains(sampler)) {
            throw new IllegalArgumentException("evaluation.sampler: unknown sampler '" + sampler + "'; DDPM runs take "
                    + String.join(", ", SampleRequest.DDPM_SAMPLERS) + ", flow runs " + String.join(", ", SampleRequest.FLOW_SAMPLERS));
        }
        if (steps < 2 || steps > 100_000) throw new IllegalArgumentException("evaluation.steps: must be in [2, 100000], got " + steps);
        if (!(cfgScale >= 0 && cfgScale <= 1000)) throw new IllegalArgumentException("evaluation.cfg_scale: must be in [0, 1000], got " + cfgScale);
        if (perClass < 2 || perClass > 10_000) throw new IllegalArgumentException("evaluation.per_class: must be in [2, 10000], got " + perClass);
        if (fractions.isEmpty()) throw new IllegalArgumentException("evaluation.fractions: at least one");
        if (fractions.size() > MAX_FRACTIONS) {
            throw new IllegalArgumentException("evaluation.fractions: at most " + MAX_FRACTIONS + " fractions, got " + fractions.size());
        }
        double prev = 0;
        for (double f : fractions) {
            if (!(f > prev && f <= 1)) throw new IllegalArgumentException("evaluation.fractions: increasing values in (0, 1], got " + fractions);
            prev = f;
        }
        if (fractions.get(fractions.size() - 1) != 1.0) throw new IllegalArgumentException("evaluation.fractions: the last must be 1.0, got " + fractions);
        judge(judgeEpochs, judgeMaxTrainSamples, judgeWidth);
    }

    static Evaluation fromMap(Map<?, ?> m) {
        ConfigKeys.checkKnown(m, KEYS, "evaluation.");
        Evaluation d = defaults();
        String p = "evaluation.";
        List<Double> fractions = d.fractions;
        if (m.get("fractions") != null) {
            if (!(m.get("fractions") instanceof List<?> l)) throw new IllegalArgumentException("evaluation.fractions: a list of numbers");
            fractions = new ArrayList<>();
            for (Object o : l) {
                if (!(o instanceof Number n)) throw new IllegalArgumentException("evaluation.fractions: numbers, got " + o);
                fractions.add(n.doubleValue());
            }
        }
        Map<?, ?> j = m.get("judge") == null ? Map.of() : ExperimentSpec.object(m, "evaluation.judge");
        ConfigKeys.checkKnown(j, JUDGE_KEYS, "evaluation.judge.");
        try {
            return new Evaluation(ConfigKeys.string(m, "sampler", d.sampler, p), ConfigKeys.integer(m, "steps", d.steps, p),
                    ConfigKeys.dbl(m, "cfg_scale", d.cfgScale, p), ConfigKeys.integer(m, "per_class", d.perClass, p), fractions,
                    ConfigKeys.lng(m, "seed", d.seed, p), ConfigKeys.integer(j, "epochs", d.judgeEpochs, p + "judge."),
                    ConfigKeys.integer(j, "max_train_samples", d.judgeMaxTrainSamples, p + "judge."),
                    ConfigKeys.integer(j, "width", d.judgeWidth, p + "judge."));
        } catch (io.udit.eval.EvalException e) {
            throw new IllegalArgumentException("evaluation.judge: " + e.getMessage(), e);
        }
    }

    /** The judge classifier's settings (trained once per data set and cached). */
    public ClassifierMetrics.Config judge() {
        return judge(judgeEpochs, judgeMaxTrainSamples, judgeWidth);
    }

    private static ClassifierMetrics.Config judge(int epochs, int maxTrain, int width) {
        ClassifierMetrics.Config d = ClassifierMetrics.Config.defaults();
        try {
            return d.withEpochs(epochs).withMaxTrainSamples(maxTrain).withArchitecture(width, d.convsPerStage());
        } catch (io.udit.eval.EvalException e) {
            throw new IllegalArgumentException("evaluation.judge: " + e.getMessage(), e);
        }
    }

    /** The labels to sample: per_class images of every class, class-major. */
    public long[] labels(int classes) {
        long[] labels = new long[classes * perClass];
        for (int c = 0; c < classes; c++) for (int i = 0; i < perClass; i++) labels[c * perClass + i] = c;
        return labels;
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sampler", sampler);
        m.put("steps", steps);
        m.put("cfg_scale", cfgScale);
        m.put("per_class", perClass);
        m.put("fractions", fractions);
        m.put("seed", seed);
        Map<String, Object> judge = new LinkedHashMap<>();
        judge.put("epochs", judgeEpochs);
        judge.put("max_train_samples", judgeMaxTrainSamples);
        judge.put("width", judgeWidth);
        m.put("judge", judge);
        return m;
    }
}
