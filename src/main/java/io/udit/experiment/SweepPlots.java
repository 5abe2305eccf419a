package io.udit.experiment;

import io.udit.io.AtomicFiles;
import io.udit.io.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Plots of every sweep point in {@code DIR/sweeps}, mean and seed spread: the Fréchet distance and the fidelity
 * against the guidance scale (one line per arm, sampler and step count swept over two or more scales) and against the
 * sampler steps (one line per arm, sampler and scale swept over two or more step counts), and the Fréchet distance
 * against the fidelity over guidance scales. Arms share a plot, so the objectives' curves can be compared.
 */
final class SweepPlots {
    private SweepPlots() {}

    private record Point(String arm, String sampler, int steps, double cfgScale, double fd, double fidelity) {}

    /** Writes the plots that have a line to draw; returns their paths. */
    static List<Path> write(Path sweeps, double evaluationCfgScale) throws IOException {
        List<Point> points = read(sweeps, evaluationCfgScale);
        List<Path> written = new ArrayList<>();
        plot(sweeps, points, true, written);
        plot(sweeps, points, false, written);
        return written;
    }

    /** Over guidance scales (lines per arm, sampler, steps) or over sampler steps (lines per arm, sampler, scale). */
    private static void plot(Path sweeps, List<Point> points, boolean overGuidance, List<Path> written) throws IOException {
        Map<String, TreeMap<Double, List<Point>>> lines = new TreeMap<>();
        for (Point p : points) {
            String line = p.arm() + " " + p.sampler() + (overGuidance ? " " + p.steps() + " steps"
                    : " guidance " + ExperimentRunner.SweepPoint.scaleText(p.cfgScale()));
            lines.computeIfAbsent(line, k -> new TreeMap<>()).computeIfAbsent(overGuidance ? p.cfgScale() : p.steps(), k -> new ArrayList<>()).add(p);
        }
        lines.values().removeIf(byX -> byX.size() < 2);
        if (lines.isEmpty()) return;
        String axis = overGuidance ? "guidance" : "steps";
        String xLabel = overGuidance ? "guidance scale" : "sampler steps";
        for (boolean fd : new boolean[] {true, false}) {
            List<ExperimentPlots.Band> bands = new ArrayList<>();
            lines.forEach((name, byX) -> {
                double[] x = new double[byX.size()], mean = new double[x.length], std = new double[x.length];
                int i = 0;
                for (var e : byX.entrySet()) {
                    Spread s = Spread.of(e.getValue().stream().map(p -> fd ? p.fd() : p.fidelity()).toList());
                    x[i] = e.getKey();
                    mean[i] = s.mean();
                    std[i++] = s.std();
                }
                bands.add(new ExperimentPlots.Band(name, x, mean, std));
            });
            String metric = fd ? "Fréchet distance" : "fidelity";
            Path file = sweeps.resolve(axis + "_" + (fd ? "frechet_distance" : "fidelity") + ".png");
            AtomicFiles.write(file, ExperimentPlots.bands(metric + " by " + xLabel + " (mean ± sd over seeds)", xLabel, metric, bands));
            written.add(file);
        }
        if (overGuidance) written.add(frontier(sweeps, lines));
    }

    /**
     * The trade-off that guidance sets: the Fréchet distance (band: its seed spread) against the fidelity, both
     * means over seeds, one point per scale; a line further down at the same fidelity samples closer to the data.
     */
    private static Path frontier(Path sweeps, Map<String, TreeMap<Double, List<Point>>> lines) throws IOException {
        List<ExperimentPlots.Band> bands = new ArrayList<>();
        lines.forEach((name, byScale) -> {
            double[] x = new double[byScale.size()], mean = new double[x.length], std = new double[x.length];
            int i = 0;
            for (List<Point> at : byScale.values()) {
                Spread fd = Spread.of(at.stream().map(Point::fd).toList());
                x[i] = Spread.of(at.stream().map(Point::fidelity).toList()).mean();
                mean[i] = fd.mean();
                std[i++] = fd.std();
            }
            bands.add(new ExperimentPlots.Band(name, x, mean, std));
        });
        Path file = sweeps.resolve("guidance_frontier.png");
        AtomicFiles.write(file, ExperimentPlots.bands("Fréchet distance against fidelity, one point per guidance scale", "fidelity",
                "Fréchet distance", bands, false));
        return file;
    }

    /** Every record DIR/sweeps/ARM/SAMPLER/seed-S/steps_N[_cfgX].json; records without a scale are at the evaluation's. */
    private static List<Point> read(Path sweeps, double evaluationCfgScale) throws IOException {
        List<Point> out = new ArrayList<>();
        if (!Files.isDirectory(sweeps)) return out;
        List<Path> records;
        try (Stream<Path> s = Files.find(sweeps, 4, (p, a) -> a.isRegularFile() && p.getFileName().toString().matches("steps_\\d+(_cfg[0-9.]+)?\\.json"))) {
            records = s.sorted().toList();
        }
        for (Path r : records) {
            Map<String, Object> m = Json.parseObject(Files.readString(r, StandardCharsets.UTF_8));
            if (!(m.get("metrics") instanceof Map<?, ?> metrics) || !(m.get("steps") instanceof Number steps)) continue;
            double cfg = m.get("cfg_scale") instanceof Number c ? c.doubleValue() : evaluationCfgScale;
            out.add(new Point(String.valueOf(m.get("arm")), String.valueOf(m.get("sampler")), steps.intValue(), cfg,
                    number(metrics.get("frechet_distance")), number(metrics.get("fidelity"))));
        }
        return out;
    }

    private static double number(Object v) {
        return v instanceof Number n ? n.doubleValue() : Double.NaN;
    }
}
