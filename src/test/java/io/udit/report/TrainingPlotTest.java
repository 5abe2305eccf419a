package io.udit.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The training chart's layout arithmetic, its header, reading log.jsonl, and rendering; the rendered PNGs are kept in
 * target/report-images for a person to look at.
 */
class TrainingPlotTest {
    static final Path OUT = Path.of("target", "report-images");

    @TempDir Path dir;

    @Test
    void panelsStackOnOneStepAxisWithoutOverlap() {
        List<Rectangle> p = TrainingPlot.panels();
        assertEquals(new Rectangle(92, 48, 844, 300), p.get(0));
        assertEquals(new Rectangle(92, 362, 844, 140), p.get(1));
        assertEquals(new Rectangle(92, 516, 844, 140), p.get(2));
        assertEquals(714, TrainingPlot.HEIGHT);
        assertEquals(TrainingPlot.HEIGHT - TrainingPlot.BOTTOM, p.get(2).y + p.get(2).height);
    }

    @Test
    void headerShowsTheLatestValues() {
        assertEquals("no steps logged yet", TrainingPlot.latest(List.of()));
        assertEquals("step 1500 \u00b7 loss 0.1234 \u00b7 lr 1e-4 \u00b7 grad norm n/a",
                TrainingPlot.latest(List.of(new TrainingPlot.Point(1500, 0.12344, 1e-4, Double.NaN))));
    }

    @Test
    void readsLogLinesAndSkipsTornOnes() throws Exception {
        Path log = dir.resolve("log.jsonl");
        Files.writeString(log, "{\"step\":10,\"loss\":0.5,\"lr\":1e-4,\"grad_norm\":2.0}\n"
                + "{\"step\":20,\"loss\":null,\"lr\":1e-4}\n{\"step\":30,\"lo");
        List<TrainingPlot.Point> pts = TrainingPlot.readLog(log);
        assertEquals(2, pts.size());
        assertEquals(new TrainingPlot.Point(10, 0.5, 1e-4, 2.0), pts.get(0));
        assertTrue(Double.isNaN(pts.get(1).loss()) && Double.isNaN(pts.get(1).gradNorm()));
        assertTrue(TrainingPlot.readLog(dir.resolve("missing.jsonl")).isEmpty());
    }

    @Test
    void rendersRealisticAndEmptyRuns() throws Exception {
        Files.createDirectories(OUT);
        List<TrainingPlot.Point> run = syntheticRun(1500, 10);
        check(TrainingPlot.png(run), "training.png", TrainingPlot.WIDTH, TrainingPlot.HEIGHT);
        check(TrainingPlot.png(run.subList(0, 12)), "training-short.png", TrainingPlot.WIDTH, TrainingPlot.HEIGHT);
        check(TrainingPlot.png(List.of()), "training-empty.png", TrainingPlot.WIDTH, TrainingPlot.HEIGHT);
        double[] xs = run.stream().mapToDouble(TrainingPlot.Point::step).toArray();
        double[] ys = run.stream().mapToDouble(TrainingPlot.Point::loss).toArray();
        check(LinePlot.png("training loss", "step", "loss", List.of(new LinePlot.Series("loss per step", xs, ys)), true),
                "lineplot.png", LinePlot.WIDTH, LinePlot.HEIGHT);
    }

    /** Loss decaying from about 1.2 to 0.11 with noise, learning-rate warm-up to 1e-4, gradient norms with spikes. */
    static List<TrainingPlot.Point> syntheticRun(int steps, int every) {
        Random r = new Random(1);
        List<TrainingPlot.Point> out = new ArrayList<>();
        for (int s = every; s <= steps; s += every) {
            double loss = (0.11 + 1.1 * Math.exp(-s / 150.0)) * Math.exp(0.15 * r.nextGaussian());
            double lr = 1e-4 * Math.min(1, s / 200.0);
            double grad = (0.4 + 2.6 * Math.exp(-s / 300.0)) * Math.exp(0.3 * r.nextGaussian()) * (r.nextInt(40) == 0 ? 5 : 1);
            out.add(new TrainingPlot.Point(s, loss, lr, grad));
        }
        return out;
    }

    static void check(byte[] png, String name, int w, int h) throws Exception {
        Files.write(OUT.resolve(name), png);
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        assertEquals(w, img.getWidth());
        assertEquals(h, img.getHeight());
    }
}
