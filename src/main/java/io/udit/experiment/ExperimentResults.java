package io.udit.experiment;

import io.udit.io.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What an experiment folder holds so far, read only from its files ({@code experiment.json}, {@code arms/*.json},
 * {@code runs/ARM/seed-S/eval/*.json}): per arm its counts and calibration, and per evaluation step the spread over
 * seeds of every metric. Works on partial experiments.
 */
public record ExperimentResults(String name, String description, Map<String, Object> state, List<ArmResult> arms) {

    /** The metrics in report order; {@code frechet_distance} (the judge's) is the primary one. */
    public static final List<String> METRICS = List.of("frechet_distance", "fidelity", "fid", "sfid", "inception_score", "precision", "recall");
    public static final String PRIMARY = "frechet_distance";

    public static boolean higherIsBetter(String metric) {
        return List.of("fidelity", "inception_score", "precision", "recall").contains(metric);
    }

    /**
     * An arm's fixed facts: MACs per image (the paper's counting), parameters (as trained), steps, the steps it is
     * evaluated at, and the calibrated seconds per training step (NaN until calibrated) with the other processes'
     * CPU share during the calibration.
     */
    public record ArmInfo(String name, String family, String description, long macsPerImage, long params, long steps,
                          List<Long> evaluationSteps, double secondsPerStep, double calibrationOtherShare) {}

    /** One evaluation step over the seeds that reached it. */
    public record Point(long step, double fraction, long imagesSeen, double trainFlops, Spread trainSeconds,
                        double calibratedSeconds, Map<String, Spread> metrics, List<Long> seeds) {}

    public record ArmResult(ArmInfo info, List<Point> points, Map<Long, List<EvalRecord>> bySeed) {
        /** The point at the arm's last evaluation step, or null when no seed has reached it. */
        public Point last() {
            if (points.isEmpty()) return null;
            Point p = points.get(points.size() - 1);
            return p.step() == info.steps() ? p : null;
        }

        /** The metric interpolated linearly in calibrated seconds at {@code t}, per seed; NaN outside a seed's curve. */
        public Spread atCalibratedSeconds(String metric, double t) {
            List<Double> v = new ArrayList<>();
            for (List<EvalRecord> recs : bySeed.values()) {
                double prevT = Double.NaN, prevY = Double.NaN, y = Double.NaN;
                for (EvalRecord r : recs) {
                    double rt = r.step() * info.secondsPerStep(), ry = r.metrics().getOrDefault(metric, Double.NaN);
                    if (Math.abs(rt - t) <= 1e-9 * Math.max(1, t)) { y = ry; break; }
                    if (rt > t) {
                        if (Double.isFinite(prevT)) y = prevY + (ry - prevY) * (t - prevT) / (rt - prevT);
                        break;
                    }
                    prevT = rt;
                    prevY = ry;
                }
                v.add(y);
            }
            return Spread.of(v);
        }
    }

    @SuppressWarnings("unchecked")
    public static ExperimentResults read(Path dir) throws IOException {
        ExperimentDir d = new ExperimentDir(dir);
        Map<String, Object> state = d.readState();
        List<ArmResult> arms = new ArrayList<>();
        for (var e : ((Map<String, Object>) state.get("arms")).entrySet()) {
            Map<String, Object> a = (Map<String, Object>) e.getValue();
            double sps = Double.NaN, other = Double.NaN;
            Path cal = d.calibrationFile(e.getKey());
            if (Files.isRegularFile(cal)) {
                Map<String, Object> c = Json.parseObject(Files.readString(cal, StandardCharsets.UTF_8));
                sps = num(c.get("seconds_per_step"));
                other = num(c.get("other_processes_cpu_share"));
            }
            List<Long> evalSteps = new ArrayList<>();
            for (Object s : (List<Object>) a.get("evaluation_steps")) evalSteps.add(((Number) s).longValue());
            ArmInfo info = new ArmInfo(e.getKey(), String.valueOf(a.get("family")), String.valueOf(a.getOrDefault("description", "")),
                    ((Number) a.get("macs_per_image")).longValue(), ((Number) a.get("params")).longValue(),
                    ((Number) a.get("steps")).longValue(), evalSteps, sps, other);
            Map<Long, List<EvalRecord>> bySeed = new TreeMap<>();
            for (Object s : (List<Object>) state.get("seeds")) {
                long seed = ((Number) s).longValue();
                List<EvalRecord> recs = EvalRecord.readAll(d.runDir(e.getKey(), seed));
                if (!recs.isEmpty()) bySeed.put(seed, recs);
            }
            arms.add(new ArmResult(info, points(info, bySeed), bySeed));
        }
        return new ExperimentResults(String.valueOf(state.get("name")), String.valueOf(state.getOrDefault("description", "")), state, arms);
    }

    private static List<Point> points(ArmInfo info, Map<Long, List<EvalRecord>> bySeed) {
        List<Point> out = new ArrayList<>();
        for (long step : info.evaluationSteps()) {
            List<EvalRecord> at = new ArrayList<>();
            for (List<EvalRecord> recs : bySeed.values()) for (EvalRecord r : recs) if (r.step() == step) at.add(r);
            if (at.isEmpty()) continue;
            Map<String, Spread> metrics = new LinkedHashMap<>();
            for (String m : METRICS) {
                if (at.stream().noneMatch(r -> r.metrics().containsKey(m))) continue;
                metrics.put(m, Spread.of(at.stream().map(r -> r.metrics().getOrDefault(m, Double.NaN)).toList()));
            }
            EvalRecord r0 = at.get(0);
            out.add(new Point(step, r0.fraction(), r0.imagesSeen(), r0.trainFlops(), Spread.of(at.stream().map(EvalRecord::trainSeconds).toList()),
                    step * info.secondsPerStep(), metrics, at.stream().map(EvalRecord::seed).toList()));
        }
        return out;
    }

    private static double num(Object o) {
        return o instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    /** The metrics any arm has, in report order. */
    public List<String> metricsPresent() {
        List<String> out = new ArrayList<>();
        for (String m : METRICS) {
            if (arms.stream().anyMatch(a -> a.points().stream().anyMatch(p -> p.metrics().containsKey(m)))) out.add(m);
        }
        return out;
    }

    /**
     * The equal-wall-time point: the shortest calibrated training time among the arms that finished (so every
     * finished arm has a value there); NaN when no arm finished or an arm lacks a calibration.
     */
    public double equalWallSeconds() {
        double t = Double.POSITIVE_INFINITY;
        for (ArmResult a : arms) {
            Point last = a.last();
            if (last != null) t = Math.min(t, last.calibratedSeconds());
        }
        return Double.isFinite(t) ? t : Double.NaN;
    }
}
