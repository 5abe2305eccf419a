package io.udit.experiment;

import io.udit.io.Json;
import io.udit.model.Complexity;
import io.udit.model.ModelConfig;
import io.udit.model.ModelConfigs;
import io.udit.train.ConfigKeys;
import io.udit.train.RunConfig;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An experiment file: a shared training recipe, the arms (a name and a model config each) and how to evaluate them.
 * Every arm x seed becomes an ordinary run whose {@link RunConfig} is the recipe's {@code run} settings with the arm's
 * model, the seed and the arm's step count.
 *
 * <pre>{@code
 * {"name": "paper-claim",
 *  "recipe": {"run": {"data": "fashion-mnist", "resolution": 32, "global_batch_size": 64, "lr": 0.002},
 *             "steps": 1200, "seeds": [0, 1, 2]},
 *  "models": {"unet": {"input_size": 32, "in_channels": 1, "num_classes": 10, "hidden_size": 32, ...}},
 *  "arms": [{"name": "dit-unet", "model": "unet"},
 *           {"name": "u-dit", "model": {"model": "unet", "down_factor": 2}}],
 *  "evaluation": {"sampler": "dpm++", "steps": 20, "cfg_scale": 4, "per_class": 20, "fractions": [0.5, 1.0]}}
 * }</pre>
 *
 * The training length is {@code steps} (equal for every arm) or {@code train_gflops} (an equal training-compute budget,
 * 3 x forward MACs x images; each arm gets the steps that spend it). An arm's model is a named model (U-DiT-S,
 * DiT-S/2, ...), an entry of {@code models}, or an object whose optional {@code "model"} names either as a base that
 * its other keys override.
 */
public record ExperimentSpec(String name, String description, Map<String, Object> run, Long steps, Double trainGflops,
                             List<Long> seeds, List<Arm> arms, Evaluation evaluation) {
    /** The most seeds and arms an experiment file may list (README, Limits). */
    public static final int MAX_SEEDS = 1000, MAX_ARMS = 256;

    static final List<String> KEYS = List.of("name", "description", "recipe", "models", "arms", "evaluation");
    static final List<String> RECIPE_KEYS = List.of("run", "steps", "train_gflops", "seeds");
    static final List<String> ARM_KEYS = List.of("name", "model", "description", "run", "sampler", "sampler_steps");
    /** Run settings the experiment sets itself, per run. */
    static final List<String> RUN_KEYS_OWNED = List.of("model", "seed", "steps");

    /**
     * One arm: its name, what it tests, its resolved model with the paper's counts, and run settings that replace the
     * recipe's for this arm (e.g. {@code {"objective": "flow"}} to compare training objectives on one model).
     */
    public record Arm(String name, String description, ModelConfig model, Map<String, Object> run, String sampler, Integer samplerSteps) {
        public Arm {
            run = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(run));
        }

        public Complexity complexity() {
            return Complexity.of(model);
        }

        /** MACs per image as the paper counts them (inference graph, elementwise products included). */
        public long macsPerImage() {
            Complexity c = complexity();
            return c.macsFolded() + c.elementwise();
        }
    }

    public ExperimentSpec {
        run = Map.copyOf(run);
        seeds = List.copyOf(seeds);
        arms = List.copyOf(arms);
    }

    public static ExperimentSpec read(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        try {
            return fromMap(Json.parseObject(text));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** Parses and validates everything: every arm's run config is built once here, before any work starts. */
    public static ExperimentSpec fromMap(Map<String, ?> m) {
        ConfigKeys.checkKnown(m, KEYS, "");
        String name = ConfigKeys.string(m, "name", null, "");
        if (name == null || !name.matches("[A-Za-z0-9._-]{1,80}")) {
            throw new IllegalArgumentException("name: required, letters, digits, '.', '_' or '-' (got " + name + ")");
        }
        Map<?, ?> recipe = object(m, "recipe");
        ConfigKeys.checkKnown(recipe, RECIPE_KEYS, "recipe.");
        Map<String, Object> run = new LinkedHashMap<>();
        object(recipe, "recipe.run").forEach((k, v) -> run.put(String.valueOf(k), v));
        for (String k : RUN_KEYS_OWNED) {
            if (run.containsKey(k)) throw new IllegalArgumentException("recipe.run." + k + ": set by the experiment (arms, seeds, steps), not here");
        }
        Long steps = recipe.get("steps") == null ? null : ConfigKeys.lng(recipe, "steps", 0, "recipe.");
        Double gflops = ConfigKeys.optDouble(recipe, "train_gflops", "recipe.");
        if ((steps == null) == (gflops == null)) throw new IllegalArgumentException("recipe: give exactly one of steps and train_gflops");
        if (steps != null && (steps < 1 || steps > RunConfig.MAX_STEPS)) throw new IllegalArgumentException("recipe.steps: must be in [1, 2^40], got " + steps);
        if (gflops != null && !(gflops > 0)) throw new IllegalArgumentException("recipe.train_gflops: must be > 0, got " + gflops);
        List<Long> seeds = new ArrayList<>();
        if (!(recipe.get("seeds") instanceof List<?> sl) || sl.isEmpty()) throw new IllegalArgumentException("recipe.seeds: a non-empty list of integers");
        if (sl.size() > MAX_SEEDS) throw new IllegalArgumentException("recipe.seeds: at most " + MAX_SEEDS + " seeds, got " + sl.size());
        for (Object s : sl) {
            Long seed = ConfigKeys.exactLong(s);
            if (seed == null || seed < 0) throw new IllegalArgumentException("recipe.seeds: whole numbers in [0, 2^63), got " + s);
            if (seeds.contains(seed)) throw new IllegalArgumentException("recipe.seeds: " + seed + " is listed twice");
            seeds.add(seed);
        }
        Map<String, Map<String, Object>> models = new LinkedHashMap<>();
        if (m.get("models") != null) {
            object(m, "models").forEach((k, v) -> {
                if (!(v instanceof Map<?, ?> mm)) throw new IllegalArgumentException("models." + k + ": must be a model config object");
                models.put(String.valueOf(k), stringKeys(mm));
            });
        }
        if (!(m.get("arms") instanceof List<?> al) || al.isEmpty()) throw new IllegalArgumentException("arms: a non-empty list of {name, model}");
        if (al.size() > MAX_ARMS) throw new IllegalArgumentException("arms: at most " + MAX_ARMS + " arms, got " + al.size());
        List<Arm> arms = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (Object o : al) {
            if (!(o instanceof Map<?, ?> am)) throw new IllegalArgumentException("arms: each arm is an object {name, model}");
            ConfigKeys.checkKnown(am, ARM_KEYS, "arms[].");
            String armName = ConfigKeys.string(am, "name", null, "arms[].");
            if (armName == null || !armName.matches("[A-Za-z0-9._+-]{1,60}")) {
                throw new IllegalArgumentException("arms[].name: required, letters, digits, '.', '_', '+' or '-' (got " + armName + ")");
            }
            if (!names.add(armName)) throw new IllegalArgumentException("arms: the name '" + armName + "' is used twice");
            ModelConfig model;
            try {
                model = ModelConfigs.fromMap(resolveModel(am.get("model"), models, new HashSet<>()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("arm '" + armName + "': " + e.getMessage(), e);
            }
            Map<String, Object> armRun = new LinkedHashMap<>();
            if (am.get("run") != null) object(am, "arms[].run").forEach((k, v) -> armRun.put(String.valueOf(k), v));
            for (String k : RUN_KEYS_OWNED) {
                if (armRun.containsKey(k)) throw new IllegalArgumentException("arm '" + armName + "': run." + k + " is set by the experiment, not here");
            }
            arms.add(new Arm(armName, ConfigKeys.string(am, "description", "", "arms[]."), model, armRun,
                    ConfigKeys.optString(am, "sampler", "arms[]."), ConfigKeys.optInt(am, "sampler_steps", "arms[].")));
        }
        Evaluation ev = Evaluation.fromMap(m.get("evaluation") == null ? Map.of() : object(m, "evaluation"));
        ExperimentSpec spec = new ExperimentSpec(name, ConfigKeys.string(m, "description", "", ""), run, steps, gflops, seeds, arms, ev);
        for (Arm a : arms) {
            try {
                RunConfig rc = spec.runConfig(a, seeds.get(0), 1.0);
                spec.sampleRequest(a, rc, new long[] {0}, false); // the evaluation sampler fits the arm's objective
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("arm '" + a.name() + "': " + e.getMessage(), e);
            }
        }
        return spec;
    }

    /** A model map with local bases ({@code models}) expanded; built-in names are left to {@link ModelConfigs}. */
    private static Map<String, Object> resolveModel(Object v, Map<String, Map<String, Object>> models, Set<String> seen) {
        if (v instanceof String s) {
            if (models.containsKey(s)) return resolveModel(models.get(s), models, seen);
            Map<String, Object> named = new LinkedHashMap<>();
            named.put("model", s);
            return named;
        }
        if (!(v instanceof Map<?, ?> mm)) throw new IllegalArgumentException("model: a model name or a model config object");
        Map<String, Object> own = stringKeys(mm);
        Object base = own.get("model");
        if (!(base instanceof String b) || !models.containsKey(b)) return own;
        if (!seen.add(b)) throw new IllegalArgumentException("models: '" + b + "' refers to itself");
        Map<String, Object> out = new LinkedHashMap<>(resolveModel(models.get(b), models, seen));
        own.remove("model");
        out.putAll(own);
        return out;
    }

    /** The arm's optimizer steps: the recipe's steps, or the steps that spend the compute budget, times the scale. */
    public long stepsFor(Arm arm, double budgetScale) {
        int batch = ((Number) baseRunConfig(arm, 0).toMap().get("global_batch_size")).intValue();
        double s = steps != null ? steps * budgetScale
                : trainGflops * 1e9 * budgetScale / (3.0 * arm.macsPerImage() * batch);
        if (!(s <= RunConfig.MAX_STEPS)) {
            throw new IllegalArgumentException((steps != null ? "recipe.steps " + steps : "recipe.train_gflops: " + trainGflops)
                    + (budgetScale != 1 ? " at --budget-scale " + budgetScale : "") + " gives more than 2^40 steps");
        }
        return Math.max(1, Math.round(s));
    }

    /** The step at which each evaluation fraction falls (at least 1, strictly increasing after de-duplication). */
    public List<Long> evaluationSteps(Arm arm, double budgetScale) {
        long total = stepsFor(arm, budgetScale);
        List<Long> out = new ArrayList<>();
        for (double f : evaluation.fractions()) {
            long s = Math.max(1, Math.round(f * total));
            if (out.isEmpty() || s > out.get(out.size() - 1)) out.add(s);
        }
        return out;
    }

    /** The run config of one arm x seed, trained to {@code steps}. */
    public RunConfig runConfig(Arm arm, long seed, double budgetScale) {
        return baseRunConfig(arm, seed).toBuilder().steps(stepsFor(arm, budgetScale)).build();
    }

    private RunConfig baseRunConfig(Arm arm, long seed) {
        Map<String, Object> m = new LinkedHashMap<>(run);
        m.putAll(arm.run());
        m.put("model", arm.model().toMap());
        m.put("seed", seed);
        m.put("steps", 1);
        return RunConfig.fromMap(m);
    }

    /**
     * The evaluation's sampling request for a run of an arm: the evaluation's sampler, or the arm's own (a flow arm
     * needs a flow sampler), on the run's schedule or transport.
     */
    public io.udit.sample.SampleRequest sampleRequest(Arm arm, RunConfig run, long[] labels, boolean clip) {
        return sampleRequest(arm, run, labels, clip, evaluation.cfgScale());
    }

    /** The arm's evaluation request at another guidance scale (a sweep's). */
    public io.udit.sample.SampleRequest sampleRequest(Arm arm, RunConfig run, long[] labels, boolean clip, double cfgScale) {
        try {
            return io.udit.sample.SampleRequest.builder(labels).sampler(arm.sampler() != null ? arm.sampler() : evaluation.sampler())
                    .steps(samplerSteps(arm)).cfgScale(cfgScale)
                    .seed(evaluation.seed()).clip(clip).noiseSchedule(run.noiseSchedule()).transport(run.transport()).build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("evaluation of arm '" + arm.name() + "': " + e.getMessage()
                    + " (set the arm's \"sampler\")", e);
        }
    }

    /** The sampler steps an arm is evaluated with: its own, else the evaluation's. */
    public int samplerSteps(Arm arm) {
        return arm.samplerSteps() != null ? arm.samplerSteps() : evaluation.steps();
    }

    public Arm arm(String armName) {
        for (Arm a : arms) if (a.name().equals(armName)) return a;
        List<String> names = arms.stream().map(Arm::name).toList();
        throw new IllegalArgumentException("no arm '" + armName + "' in experiment " + name + "; did you mean '"
                + ConfigKeys.nearest(armName, names) + "'? (arms: " + String.join(", ", names) + ")");
    }

    static Map<?, ?> object(Map<?, ?> m, String key) {
        String last = key.substring(key.lastIndexOf('.') + 1);
        if (!(m.get(last) instanceof Map<?, ?> o)) throw new IllegalArgumentException(key + ": missing or not an object");
        return o;
    }

    static Map<String, Object> stringKeys(Map<?, ?> m) {
        Map<String, Object> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(String.valueOf(k), v));
        return out;
    }
}
