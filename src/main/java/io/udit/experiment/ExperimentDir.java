package io.udit.experiment;

import io.udit.io.AtomicFiles;
import io.udit.io.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The layout of an experiment folder: {@code experiment.json} (the recipe, evaluation, budget scale and every arm's
 * model, MACs, parameters and steps), {@code arms/ARM.json} (the arm's calibrated seconds per step),
 * {@code runs/ARM/seed-S/} (an ordinary run folder, with {@code eval/step_N.json} per evaluation) and the report files.
 */
public record ExperimentDir(Path dir) {
    public static final String STATE = "experiment.json";

    public Path runDir(String arm, long seed) {
        return dir.resolve("runs").resolve(arm).resolve("seed-" + seed);
    }

    public Path calibrationFile(String arm) {
        return dir.resolve("arms").resolve(arm + ".json");
    }

    /** The state file's content for this spec and scale: what must agree when the experiment runs again. */
    public static Map<String, Object> state(ExperimentSpec spec, double budgetScale) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", spec.name());
        m.put("description", spec.description());
        m.put("run", new java.util.TreeMap<>(spec.run()));
        m.put("steps", spec.steps());
        m.put("train_gflops", spec.trainGflops());
        m.put("budget_scale", budgetScale);
        m.put("seeds", spec.seeds());
        m.put("evaluation", spec.evaluation().toMap());
        Map<String, Object> arms = new LinkedHashMap<>();
        for (ExperimentSpec.Arm a : spec.arms()) {
            Map<String, Object> am = new LinkedHashMap<>();
            am.put("description", a.description());
            am.put("model", a.model().toMap());
            if (!a.run().isEmpty()) am.put("run", a.run());
            if (a.sampler() != null) am.put("sampler", a.sampler());
            if (a.samplerSteps() != null) am.put("sampler_steps", a.samplerSteps());
            am.put("family", a.model().family());
            am.put("macs_per_image", a.macsPerImage());
            am.put("params", a.complexity().paramsTrained());
            am.put("steps", spec.stepsFor(a, budgetScale));
            am.put("evaluation_steps", spec.evaluationSteps(a, budgetScale));
            arms.put(a.name(), am);
        }
        m.put("arms", arms);
        return m;
    }

    /**
     * Writes the state for this spec, or checks it against the one already there: recipe, seeds, evaluation and budget
     * must be the same, an arm already present must keep its model; new arms are added.
     */
    @SuppressWarnings("unchecked")
    public void claim(ExperimentSpec spec, double budgetScale) throws IOException {
        Map<String, Object> mine = state(spec, budgetScale);
        Path f = dir.resolve(STATE);
        Files.createDirectories(dir);
        if (Files.exists(f)) {
            Map<String, Object> old = readState();
            List<String> diff = new ArrayList<>();
            for (String k : List.of("run", "steps", "train_gflops", "budget_scale", "evaluation")) {
                if (!Objects.equals(canonical(old.get(k)), canonical(mine.get(k)))) diff.add(k);
            }
            Map<String, Object> oldArms = (Map<String, Object>) old.get("arms"), newArms = (Map<String, Object>) mine.get("arms");
            for (var e : newArms.entrySet()) {
                Object prev = oldArms.get(e.getKey());
                if (prev != null && !Objects.equals(canonical(((Map<String, Object>) prev).get("model")),
                        canonical(((Map<String, Object>) e.getValue()).get("model")))) {
                    diff.add("arm " + e.getKey() + "'s model");
                }
                if (prev != null && !Objects.equals(canonical(((Map<String, Object>) prev).get("run")),
                        canonical(((Map<String, Object>) e.getValue()).get("run")))) {
                    diff.add("arm " + e.getKey() + "'s run settings");
                }
            }
            if (!diff.isEmpty()) {
                throw new IllegalArgumentException(dir + " holds experiment '" + old.get("name") + "' with a different "
                        + String.join(", ", diff) + "; use another --out folder (nothing was changed)");
            }
            Map<String, Object> merged = new LinkedHashMap<>(oldArms);
            merged.putAll(newArms);
            mine.put("arms", merged);
            List<Object> seeds = new ArrayList<>((List<Object>) old.get("seeds"));
            for (Long s : spec.seeds()) if (!seeds.contains(s) && seeds.stream().noneMatch(o -> ((Number) o).longValue() == s)) seeds.add(s);
            mine.put("seeds", seeds);
        }
        AtomicFiles.write(f, Json.writePretty(mine).getBytes(StandardCharsets.UTF_8));
    }

    /** A value's JSON with every object's keys sorted, so key order never counts as a difference. */
    static String canonical(Object v) {
        return Json.write(sorted(v));
    }

    private static Object sorted(Object v) {
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new java.util.TreeMap<>();
            m.forEach((k, x) -> out.put(String.valueOf(k), sorted(x)));
            return out;
        }
        if (v instanceof List<?> l) return l.stream().map(ExperimentDir::sorted).toList();
        return v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && Math.abs(n.doubleValue()) < 1e15 ? (Object) n.longValue() : v;
    }

    public Map<String, Object> readState() throws IOException {
        Path f = dir.resolve(STATE);
        if (!Files.isRegularFile(f)) throw new IOException(dir + ": no " + STATE + " (not an experiment folder)");
        return Json.parseObject(Files.readString(f, StandardCharsets.UTF_8));
    }
}
