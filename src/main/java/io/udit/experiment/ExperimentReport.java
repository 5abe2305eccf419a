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
import java.util.Locale;
import java.util.Map;

/**
 * Writes an experiment's report from its result files: {@code report.md}, {@code results.csv} (one row per run and
 * evaluation), {@code results.json} (every figure as mean, standard deviation and per-seed values, and the
 * comparisons), and plots: the primary metric against training compute and against calibrated wall time (seed spread
 * as a band), final metrics as bars with error bars, and one sample grid per arm.
 */
public final class ExperimentReport {
    private ExperimentReport() {}

    /** The comparison of two arms on one metric at one point (end of training or equal wall time). */
    public record Comparison(String a, String b, String metric, String at, Spread sa, Spread sb) {
        public double difference() {
            return sa.mean() - sb.mean();
        }

        public boolean exceedsSpread() {
            return sa.differsBeyondSpread(sb);
        }

        /** The arm with the better mean, or null when either is missing. */
        public String better() {
            if (!Double.isFinite(sa.mean()) || !Double.isFinite(sb.mean())) return null;
            boolean aBetter = ExperimentResults.higherIsBetter(metric) ? sa.mean() > sb.mean() : sa.mean() < sb.mean();
            return aBetter ? a : b;
        }

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("a", a);
            m.put("b", b);
            m.put("metric", metric);
            m.put("at", at);
            m.put("difference", finite(difference()));
            m.put("better", better());
            m.put("exceeds_seed_spread", exceedsSpread());
            return m;
        }
    }

    public static void write(Path dir) throws IOException {
        ExperimentResults r = ExperimentResults.read(dir);
        List<Comparison> comparisons = comparisons(r);
        AtomicFiles.write(dir.resolve("results.csv"), csv(r).getBytes(StandardCharsets.UTF_8));
        AtomicFiles.write(dir.resolve("results.json"), Json.writePretty(json(r, comparisons)).getBytes(StandardCharsets.UTF_8));
        plots(r, dir);
        AtomicFiles.write(dir.resolve("report.md"), markdown(r, comparisons, dir).getBytes(StandardCharsets.UTF_8));
    }

    /** Pairs compared: each arm with the one before it (a ladder's rungs), and the last arm with the first. */
    static List<String[]> pairs(ExperimentResults r) {
        List<String[]> out = new ArrayList<>();
        List<ExperimentResults.ArmResult> a = r.arms();
        for (int i = 1; i < a.size(); i++) out.add(new String[] {a.get(i).info().name(), a.get(i - 1).info().name()});
        if (a.size() > 2) out.add(new String[] {a.get(a.size() - 1).info().name(), a.get(0).info().name()});
        return out;
    }

    public static List<Comparison> comparisons(ExperimentResults r) {
        List<Comparison> out = new ArrayList<>();
        double t = r.equalWallSeconds();
        for (String metric : r.metricsPresent()) {
            for (String[] p : pairs(r)) {
                ExperimentResults.ArmResult a = arm(r, p[0]), b = arm(r, p[1]);
                out.add(new Comparison(p[0], p[1], metric, "end", finalSpread(a, metric), finalSpread(b, metric)));
                if (Double.isFinite(t)) {
                    out.add(new Comparison(p[0], p[1], metric, "equal_wall_time", a.atCalibratedSeconds(metric, t), b.atCalibratedSeconds(metric, t)));
                }
            }
        }
        return out;
    }

    private static ExperimentResults.ArmResult arm(ExperimentResults r, String name) {
        return r.arms().stream().filter(a -> a.info().name().equals(name)).findFirst().orElseThrow();
    }

    static Spread finalSpread(ExperimentResults.ArmResult a, String metric) {
        ExperimentResults.Point last = a.last();
        return last == null || !last.metrics().containsKey(metric) ? Spread.of(List.of()) : last.metrics().get(metric);
    }

    static String csv(ExperimentResults r) {
        List<String> metrics = r.metricsPresent();
        StringBuilder b = new StringBuilder("arm,seed,step,fraction,images_seen,train_gflops,train_seconds,calibrated_seconds");
        for (String m : metrics) b.append(',').append(m);
        b.append('\n');
        for (ExperimentResults.ArmResult a : r.arms()) {
            for (var e : a.bySeed().entrySet()) {
                for (EvalRecord rec : e.getValue()) {
                    b.append(a.info().name()).append(',').append(rec.seed()).append(',').append(rec.step()).append(',')
                            .append(num(rec.fraction())).append(',').append(rec.imagesSeen()).append(',').append(num(rec.trainFlops() / 1e9))
                            .append(',').append(num(rec.trainSeconds())).append(',').append(num(rec.step() * a.info().secondsPerStep()));
                    for (String m : metrics) b.append(',').append(num(rec.metrics().getOrDefault(m, Double.NaN)));
                    b.append('\n');
                }
            }
        }
        return b.toString();
    }

    /** A CSV/JSON number: 6 significant digits, empty for NaN. */
    static String num(double v) {
        if (!Double.isFinite(v)) return "";
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return String.valueOf((long) v);
        return String.format(Locale.ROOT, "%.6g", v).replaceAll("(\\.\\d*?)0+(e|$)", "$1$2").replace(".e", "e").replaceAll("\\.$", "");
    }

    private static Object finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private static Map<String, Object> spreadMap(Spread s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mean", finite(s.mean()));
        m.put("std", finite(s.std()));
        m.put("n", s.n());
        m.put("values", s.values().stream().map(ExperimentReport::finite).toList());
        return m;
    }

    static Map<String, Object> json(ExperimentResults r, List<Comparison> comparisons) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", r.name());
        out.put("primary_metric", ExperimentResults.PRIMARY);
        out.put("equal_wall_time_seconds", finite(r.equalWallSeconds()));
        out.put("wall_time_basis", "calibrated seconds per step x steps (arms/*.json)");
        List<Object> arms = new ArrayList<>();
        double t = r.equalWallSeconds();
        for (ExperimentResults.ArmResult a : r.arms()) {
            ExperimentResults.ArmInfo i = a.info();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("arm", i.name());
            m.put("family", i.family());
            m.put("params", i.params());
            m.put("macs_per_image", i.macsPerImage());
            m.put("steps", i.steps());
            m.put("seconds_per_step_calibrated", finite(i.secondsPerStep()));
            m.put("calibration_other_processes_cpu_share", finite(i.calibrationOtherShare()));
            m.put("seeds_finished", a.last() == null ? 0 : a.last().seeds().size());
            List<Object> points = new ArrayList<>();
            for (ExperimentResults.Point p : a.points()) {
                Map<String, Object> pm = new LinkedHashMap<>();
                pm.put("step", p.step());
                pm.put("fraction", p.fraction());
                pm.put("images_seen", p.imagesSeen());
                pm.put("train_flops", p.trainFlops());
                pm.put("train_seconds_measured", spreadMap(p.trainSeconds()));
                pm.put("train_seconds_calibrated", finite(p.calibratedSeconds()));
                pm.put("seeds", p.seeds());
                Map<String, Object> mm = new LinkedHashMap<>();
                p.metrics().forEach((k, v) -> mm.put(k, spreadMap(v)));
                pm.put("metrics", mm);
                points.add(pm);
            }
            m.put("points", points);
            if (Double.isFinite(t)) {
                Map<String, Object> eq = new LinkedHashMap<>();
                for (String metric : r.metricsPresent()) eq.put(metric, spreadMap(a.atCalibratedSeconds(metric, t)));
                m.put("at_equal_wall_time", eq);
            }
            arms.add(m);
        }
        out.put("arms", arms);
        out.put("comparisons", comparisons.stream().map(Comparison::toMap).toList());
        return out;
    }

    private static void plots(ExperimentResults r, Path dir) throws IOException {
        List<ExperimentPlots.Band> compute = new ArrayList<>(), wall = new ArrayList<>();
        String pm = ExperimentResults.PRIMARY;
        for (ExperimentResults.ArmResult a : r.arms()) {
            int n = a.points().size();
            double[] x = new double[n], xw = new double[n], y = new double[n], s = new double[n];
            for (int i = 0; i < n; i++) {
                ExperimentResults.Point p = a.points().get(i);
                x[i] = p.trainFlops() / 1e12;
                xw[i] = p.calibratedSeconds() / 60;
                Spread v = p.metrics().getOrDefault(pm, Spread.of(List.of()));
                y[i] = v.mean();
                s[i] = v.std();
            }
            compute.add(new ExperimentPlots.Band(a.info().name(), x, y, s));
            wall.add(new ExperimentPlots.Band(a.info().name(), xw, y, s));
        }
        AtomicFiles.write(dir.resolve("metric_vs_compute.png"), ExperimentPlots.bands(r.name() + ": classifier Fréchet distance (lower is better)",
                "training compute, TFLOPs (3 x forward MACs x images)", "Fréchet distance, mean +- sd over seeds", compute));
        AtomicFiles.write(dir.resolve("metric_vs_walltime.png"), ExperimentPlots.bands(r.name() + ": Fréchet distance vs wall time on this machine",
                "training minutes (calibrated seconds per step x steps)", "Fréchet distance, mean +- sd over seeds", wall));
        for (String metric : r.metricsPresent()) {
            List<ExperimentPlots.Bar> bars = new ArrayList<>();
            for (ExperimentResults.ArmResult a : r.arms()) {
                Spread s = finalSpread(a, metric);
                bars.add(new ExperimentPlots.Bar(a.info().name(), s.mean(), s.std()));
            }
            AtomicFiles.write(dir.resolve("final_" + metric + ".png"), ExperimentPlots.bars(r.name() + ": " + metric
                    + " at the end of training (" + (ExperimentResults.higherIsBetter(metric) ? "higher" : "lower") + " is better)",
                    metric + ", mean +- sd over seeds", bars));
        }
        Path grids = dir.resolve("grids");
        for (ExperimentResults.ArmResult a : r.arms()) {
            ExperimentResults.Point last = a.last();
            if (last == null) continue;
            Path g = new ExperimentDir(dir).runDir(a.info().name(), last.seeds().get(0)).resolve(EvalRecord.DIR)
                    .resolve(String.format("grid_step_%07d.png", last.step()));
            if (!Files.isRegularFile(g)) continue;
            Files.createDirectories(grids);
            AtomicFiles.write(grids.resolve(a.info().name() + ".png"), Files.readAllBytes(g));
        }
    }

    static String pm(Spread s) {
        if (s.n() == 0) return "n/a";
        if (s.n() == 1) return String.format(Locale.ROOT, "%.4f (1 seed)", s.mean());
        return String.format(Locale.ROOT, "%.4f ± %.4f", s.mean(), s.std());
    }

    private static String values(Spread s) {
        return String.join(", ", s.values().stream().map(v -> Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "n/a").toList());
    }

    static String markdown(ExperimentResults r, List<Comparison> comparisons, Path dir) {
        StringBuilder b = new StringBuilder();
        Map<String, Object> st = r.state();
        b.append("# Experiment ").append(r.name()).append("\n\n");
        if (!r.description().isBlank()) b.append(r.description()).append("\n\n");
        b.append(String.format(Locale.ROOT, "Recipe: %s; seeds %s; budget scale %s. Evaluation: %s.%n%n",
                Json.write(st.get("run")), st.get("seeds"), st.get("budget_scale"), Json.write(st.get("evaluation"))));
        List<String> metrics = r.metricsPresent();
        b.append("## Arms\n\n| arm | family | params | GMACs / image | steps | training TFLOPs | calibrated s / step | measured training min (mean) | seeds done |\n|---|---|---|---|---|---|---|---|---|\n");
        for (ExperimentResults.ArmResult a : r.arms()) {
            ExperimentResults.ArmInfo i = a.info();
            ExperimentResults.Point last = a.last();
            double flops = 3.0 * i.macsPerImage() * (last == null ? 0 : last.imagesSeen());
            b.append(String.format(Locale.ROOT, "| %s | %s | %,d | %.4f | %d | %s | %s | %s | %d |%n", i.name(), i.family(), i.params(),
                    i.macsPerImage() / 1e9, i.steps(), last == null ? "n/a" : String.format(Locale.ROOT, "%.2f", flops / 1e12),
                    Double.isFinite(i.secondsPerStep()) ? String.format(Locale.ROOT, "%.3f", i.secondsPerStep()) : "n/a",
                    last == null ? "n/a" : String.format(Locale.ROOT, "%.1f", last.trainSeconds().mean() / 60),
                    last == null ? 0 : last.seeds().size()));
        }
        b.append("\n## At the end of training (equal steps)\n\nMean ± standard deviation over seeds; per-seed values in brackets.\n\n| arm |");
        for (String m : metrics) b.append(' ').append(m).append(" |");
        b.append("\n|---|").append("---|".repeat(metrics.size())).append('\n');
        for (ExperimentResults.ArmResult a : r.arms()) {
            b.append("| ").append(a.info().name()).append(" |");
            for (String m : metrics) {
                Spread s = finalSpread(a, m);
                b.append(' ').append(pm(s)).append(s.n() > 0 ? " [" + values(s) + "]" : "").append(" |");
            }
            b.append('\n');
        }
        double t = r.equalWallSeconds();
        if (Double.isFinite(t)) {
            b.append(String.format(Locale.ROOT, "%n## At equal wall time on this machine (%.1f min of training)%n%n", t / 60));
            b.append("Wall time is each arm's calibrated seconds per step (the fastest step of interleaved calibration rounds,\n"
                    + "`arms/ARM.json`) times steps, so a busy machine during training does not tilt the comparison; the metric\n"
                    + "is interpolated linearly between evaluation points (n/a before an arm's first evaluation). Step times\n"
                    + "of arms within about 15 % of each other are not told apart reliably on a shared machine (see the\n"
                    + "rounds in `arms/ARM.json`), and the point of equal time moves with the fastest arm's.\n");
            double busiest = r.arms().stream().mapToDouble(a -> a.info().calibrationOtherShare()).filter(Double::isFinite).max().orElse(0);
            if (busiest > 0.1) {
                b.append(String.format(Locale.ROOT, "**Caution:** other processes used up to %.0f%% of the CPU while the arms were calibrated, so"
                        + " these times are unreliable; delete `arms/*.json` and run the experiment again on a quiet machine to recalibrate.%n", 100 * busiest));
            }
            b.append("\n| arm |");
            for (String m : metrics) b.append(' ').append(m).append(" |");
            b.append("\n|---|").append("---|".repeat(metrics.size())).append('\n');
            for (ExperimentResults.ArmResult a : r.arms()) {
                b.append("| ").append(a.info().name()).append(" |");
                for (String m : metrics) b.append(' ').append(pm(a.atCalibratedSeconds(m, t))).append(" |");
                b.append('\n');
            }
        }
        b.append("\n## Over training\n\n| arm | step | images seen | training TFLOPs | calibrated min | ").append(ExperimentResults.PRIMARY).append(" | seeds |\n|---|---|---|---|---|---|---|\n");
        for (ExperimentResults.ArmResult a : r.arms()) {
            for (ExperimentResults.Point p : a.points()) {
                b.append(String.format(Locale.ROOT, "| %s | %d | %,d | %.3f | %.1f | %s | %d |%n", a.info().name(), p.step(), p.imagesSeen(),
                        p.trainFlops() / 1e12, p.calibratedSeconds() / 60, pm(p.metrics().getOrDefault(ExperimentResults.PRIMARY, Spread.of(List.of()))),
                        p.seeds().size()));
            }
        }
        b.append("\n## Which differences exceed the seed spread\n\nA difference exceeds the seed spread when the two means are further apart than the sum of\n"
                + "their standard deviations (the mean ± sd intervals do not overlap; needs 2 or more seeds per arm).\n\n");
        for (Comparison c : comparisons) {
            if (!c.metric().equals(ExperimentResults.PRIMARY) && !c.metric().equals("fidelity")) continue;
            String where = c.at().equals("end") ? "at the end of training" : "at equal wall time";
            if (c.better() == null) {
                b.append(String.format("- %s vs %s, %s %s: not measured yet%n", c.a(), c.b(), c.metric(), where));
                continue;
            }
            String verdict = c.sa().n() < 2 || c.sb().n() < 2 ? "fewer than 2 seeds, no verdict yet"
                    : c.exceedsSpread() ? "**exceeds the seed spread**" : "within the seed spread";
            b.append(String.format(Locale.ROOT, "- %s vs %s, %s %s: %s is better by %.4f — %s%n", c.a(), c.b(), c.metric(), where,
                    c.better(), Math.abs(c.difference()), verdict));
        }
        b.append("\n## Plots\n\n![metric vs compute](metric_vs_compute.png)\n\n![metric vs wall time](metric_vs_walltime.png)\n\n");
        for (String m : metrics) b.append("![final ").append(m).append("](final_").append(m).append(".png)\n\n");
        b.append("## Samples (last evaluation of the first seed, one row per class)\n\n");
        for (ExperimentResults.ArmResult a : r.arms()) {
            if (Files.isRegularFile(dir.resolve("grids").resolve(a.info().name() + ".png"))) {
                b.append("**").append(a.info().name()).append("**\n\n![").append(a.info().name()).append("](grids/").append(a.info().name()).append(".png)\n\n");
            }
        }
        return b.toString();
    }
}
