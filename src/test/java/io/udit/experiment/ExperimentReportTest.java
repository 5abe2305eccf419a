package io.udit.experiment;

import io.udit.io.Json;
import io.udit.testing.Cli;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code udit experiment report} on fixed result files (src/test/resources/experiment/fixed: three arms x three seeds,
 * evaluations at steps 50 and 100, calibrated 1.0, 0.6 and 2.0 s/step): golden means, deviations, verdicts and CSV.
 */
class ExperimentReportTest {
    @TempDir
    static Path tmp;
    static Path dir;
    static Map<String, Object> json;

    @BeforeAll
    static void report() throws Exception {
        Path src = Path.of("src/test/resources/experiment/fixed");
        dir = tmp.resolve("fixed");
        try (Stream<Path> files = Files.walk(src)) {
            for (Path p : files.toList()) {
                Path t = dir.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(t);
                else Files.copy(p, t);
            }
        }
        Cli.Result r = Cli.run("experiment", "report", dir.toString());
        assertEquals(0, r.exitCode(), r.all());
        json = Json.parseObject(Files.readString(dir.resolve("results.json")));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> arm(String name) {
        for (Object o : (List<Object>) json.get("arms")) if (((Map<String, Object>) o).get("arm").equals(name)) return (Map<String, Object>) o;
        throw new AssertionError(name);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> finalFd(String name) {
        List<Object> points = (List<Object>) arm(name).get("points");
        Map<String, Object> last = (Map<String, Object>) points.get(points.size() - 1);
        return (Map<String, Object>) ((Map<String, Object>) last.get("metrics")).get("frechet_distance");
    }

    static double d(Object o) {
        return ((Number) o).doubleValue();
    }

    /** An arm without a calibration has no wall time: its points are left out of that plot, which still draws. */
    @Test
    void plotsLeaveOutPointsWithoutAnX() throws Exception {
        byte[] png = ExperimentPlots.bands("t", "minutes", "FD", List.of(
                new ExperimentPlots.Band("calibrated", new double[] {1, 2}, new double[] {5, 3}, new double[] {1, 1}),
                new ExperimentPlots.Band("not calibrated", new double[] {Double.NaN, Double.NaN}, new double[] {6, 4}, new double[] {1, 1})));
        assertTrue(png.length > 100);
        byte[] empty = ExperimentPlots.bands("t", "minutes", "FD", List.of(
                new ExperimentPlots.Band("nothing yet", new double[] {Double.NaN}, new double[] {Double.NaN}, new double[] {0})));
        assertTrue(empty.length > 100);
    }

    @Test
    void meansAndDeviationsOverSeedsWithPerSeedValues() {
        assertEquals(1.2, d(finalFd("a").get("mean")), 1e-12);
        assertEquals(0.2, d(finalFd("a").get("std")), 1e-12);
        assertEquals(2.1, d(finalFd("b").get("mean")), 1e-12);
        assertEquals(0.1, d(finalFd("b").get("std")), 1e-12);
        assertEquals(2.3, d(finalFd("c").get("mean")), 1e-12);
        assertEquals(0.4, d(finalFd("c").get("std")), 1e-12);
        assertEquals(List.of(1.9, 2.3, 2.7), finalFd("c").get("values"));
        assertEquals(3, ((Number) arm("a").get("seeds_finished")).intValue());
    }

    @Test
    @SuppressWarnings("unchecked")
    void equalWallTimeUsesCalibratedSecondsAndInterpolates() {
        assertEquals(60.0, d(json.get("equal_wall_time_seconds")), 1e-12); // b: 100 steps x 0.6 s, the shortest
        Map<String, Object> a = (Map<String, Object>) ((Map<String, Object>) arm("a").get("at_equal_wall_time")).get("frechet_distance");
        assertEquals(2.8, d(a.get("mean")), 1e-12); // a at 60 s: a fifth of the way from step 50 to step 100
        assertEquals(0.2, d(a.get("std")), 1e-12);
        Map<String, Object> b = (Map<String, Object>) ((Map<String, Object>) arm("b").get("at_equal_wall_time")).get("frechet_distance");
        assertEquals(2.1, d(b.get("mean")), 1e-12);
        Map<String, Object> c = (Map<String, Object>) ((Map<String, Object>) arm("c").get("at_equal_wall_time")).get("frechet_distance");
        assertNull(c.get("mean"), "c's first evaluation (100 s) lies after 60 s");
    }

    @Test
    @SuppressWarnings("unchecked")
    void verdictsSayWhichDifferencesExceedTheSeedSpread() throws Exception {
        record V(String a, String b, String at, String better, boolean exceeds) {}
        List<V> fd = ((List<Object>) json.get("comparisons")).stream().map(o -> (Map<String, Object>) o)
                .filter(m -> m.get("metric").equals("frechet_distance"))
                .map(m -> new V((String) m.get("a"), (String) m.get("b"), (String) m.get("at"), (String) m.get("better"), (Boolean) m.get("exceeds_seed_spread")))
                .toList();
        assertEquals(List.of(
                new V("b", "a", "end", "a", true),               // 0.9 apart, sds 0.2 + 0.1
                new V("b", "a", "equal_wall_time", "b", true),   // 2.1 vs 2.8, sds 0.1 + 0.2
                new V("c", "b", "end", "b", false),              // 0.2 apart, sds 0.1 + 0.4
                new V("c", "b", "equal_wall_time", null, false), // c has no value at 60 s
                new V("c", "a", "end", "a", true),               // 1.1 apart, sds 0.2 + 0.4
                new V("c", "a", "equal_wall_time", null, false)), fd);
        String md = Files.readString(dir.resolve("report.md"));
        assertTrue(md.contains("- b vs a, frechet_distance at the end of training: a is better by 0.9000 — **exceeds the seed spread**"), md);
        assertTrue(md.contains("- c vs b, frechet_distance at the end of training: b is better by 0.2000 — within the seed spread"), md);
        assertTrue(md.contains("| c | 2.3000 ± 0.4000 [1.9000, 2.3000, 2.7000] |"), md);
    }

    @Test
    void csvHoldsOneRowPerRunAndEvaluation() throws Exception {
        List<String> lines = Files.readAllLines(dir.resolve("results.csv"));
        assertEquals("arm,seed,step,fraction,images_seen,train_gflops,train_seconds,calibrated_seconds,frechet_distance,fidelity", lines.get(0));
        assertEquals(1 + 3 * 3 * 2, lines.size());
        assertEquals("a,0,50,0.5,400,1200,75,50,3,0.5", lines.get(1));
        assertEquals("b,1,100,1,800,1200,91,60,2.1,0.75", lines.get(10));
        assertEquals("c,2,100,1,800,4800,302,200,2.7,0.8", lines.get(18));
    }

    @Test
    void plotsAndGridsAreWritten() throws Exception {
        for (String f : List.of("metric_vs_compute.png", "metric_vs_walltime.png", "final_frechet_distance.png", "final_fidelity.png")) {
            byte[] png = Files.readAllBytes(dir.resolve(f));
            assertTrue(png.length > 1000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', f);
        }
        assertFalse(Files.exists(dir.resolve("grids")), "the fixed runs hold no sample grids");
    }

    @Test
    void aFolderWithoutAnExperimentIsAUserError() {
        Cli.Result r = Cli.run("experiment", "report", tmp.resolve("nothing").toString());
        assertEquals(2, r.exitCode(), r.all());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }
}
