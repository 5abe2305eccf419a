package io.udit.experiment;

import io.udit.io.Json;
import io.udit.testing.ChildCli;
import io.udit.testing.Cli;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code udit experiment run} end to end on the micro experiment (2 arms x 2 seeds x 4 steps on generated shapes,
 * evaluated at steps 2 and 4): run folders, records and report; a second run does nothing; a run killed midway and
 * run again trains only what was missing and ends with the uninterrupted run's results; user mistakes exit 2.
 */
class ExperimentTest {
    static final Path MICRO = Path.of("src/test/resources/experiment/micro.json");

    @TempDir
    static Path tmp;
    static Path full;
    static Cli.Result fullRun;

    @BeforeAll
    static void runUninterrupted() {
        full = tmp.resolve("full");
        fullRun = Cli.run("experiment", "run", MICRO.toString(), "--out", full.toString());
    }

    @Test
    void microExperimentEndToEnd() throws Exception {
        assertEquals(0, fullRun.exitCode(), fullRun.all());
        assertTrue(fullRun.out().contains("experiment micro: 8 new evaluation(s)"), fullRun.out());
        for (String arm : List.of("unet", "udit")) {
            assertTrue(Files.isRegularFile(full.resolve("arms/" + arm + ".json")), "calibration of " + arm);
            for (long seed : List.of(0L, 1L)) {
                Path run = full.resolve("runs/" + arm + "/seed-" + seed);
                Map<String, Object> cfg = Json.parseObject(Files.readString(run.resolve("config.json")));
                assertEquals(seed, ((Number) cfg.get("seed")).longValue());
                List<EvalRecord> recs = EvalRecord.readAll(run);
                assertEquals(List.of(2L, 4L), recs.stream().map(EvalRecord::step).toList());
                EvalRecord last = recs.get(1);
                assertEquals(16, last.imagesSeen());
                assertTrue(last.trainSeconds() > 0);
                assertTrue(Double.isFinite(last.metrics().get("frechet_distance")) && Double.isFinite(last.metrics().get("fidelity")));
                Map<String, Object> state = new ExperimentDir(full).readState();
                @SuppressWarnings("unchecked")
                long macs = ((Number) ((Map<String, Object>) ((Map<String, Object>) state.get("arms")).get(arm)).get("macs_per_image")).longValue();
                assertEquals(3.0 * macs * 16, last.trainFlops(), 1e-6 * last.trainFlops());
            }
            assertTrue(Files.isRegularFile(full.resolve("grids/" + arm + ".png")));
        }
        assertEquals(9, Files.readAllLines(full.resolve("results.csv")).size());
        String md = Files.readString(full.resolve("report.md"));
        assertTrue(md.contains("## At equal wall time on this machine") && md.contains("udit vs unet, frechet_distance at the end of training"), md);

        Map<Path, FileTime> before = times(full);
        Cli.Result again = Cli.run("experiment", "run", MICRO.toString(), "--out", full.toString());
        assertEquals(0, again.exitCode(), again.all());
        assertTrue(again.out().contains("0 new evaluation(s)"), again.out());
        Map<Path, FileTime> after = times(full.resolve("runs"));
        after.forEach((p, t) -> assertEquals(before.get(p), t, p + " changed on a second run"));
    }

    /**
     * A run folder held by another trainer (a second `experiment run` on the same folder) is skipped, not an error: the
     * other runs are trained and evaluated, the command says what it skipped, and running it again once the folder is
     * free completes the skipped run with the uninterrupted run's results.
     */
    @Test
    void aRunInUseByAnotherProcessIsSkippedAndCompletedLater() throws Exception {
        Path dir = tmp.resolve("busy");
        Path held = dir.resolve("runs/unet/seed-1");
        Cli.Result first;
        try (io.udit.train.RunFolder other = io.udit.train.RunFolder.open(held, io.udit.train.RunFolder.Start.RESUME)) {
            first = Cli.run("experiment", "run", MICRO.toString(), "--out", dir.toString());
        }
        assertEquals(0, first.exitCode(), first.all());
        assertTrue(first.out().contains("6 new evaluation(s); 1 run(s) in use by other processes"), first.out());
        assertTrue(first.err().contains("unet seed 1: skipped, run folder " + held + " is in use"), first.err());
        assertEquals(List.of(), EvalRecord.readAll(held));
        Cli.Result second = Cli.run("experiment", "run", MICRO.toString(), "--out", dir.toString());
        assertEquals(0, second.exitCode(), second.all());
        assertTrue(second.out().contains("2 new evaluation(s); report"), second.out());
        List<EvalRecord> got = EvalRecord.readAll(held), want = EvalRecord.readAll(full.resolve("runs/unet/seed-1"));
        assertEquals(want.size(), got.size());
        for (int i = 0; i < want.size(); i++) assertEquals(want.get(i).metrics(), got.get(i).metrics());
    }

    @Test
    void killedRunCompletesOnlyWhatWasMissingWithTheSameResults() throws Exception {
        Path dir = tmp.resolve("killed");
        Path firstDone = dir.resolve("runs/unet/seed-0/eval/step_0000004.json");
        Process p = ChildCli.start(tmp.resolve("child.log"), "experiment", "run", MICRO.toString(), "--out", dir.toString());
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (!Files.exists(firstDone) && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(20);
        p.destroyForcibly().waitFor();
        assertTrue(Files.exists(firstDone), "the child finished its first run folder: " + Files.readString(tmp.resolve("child.log")));
        assertTrue(!Files.exists(dir.resolve("runs/udit/seed-1/eval/step_0000004.json")), "the kill came before the end");
        Path finished = dir.resolve("runs/unet/seed-0");
        Map<Path, FileTime> before = times(finished);
        Map<Path, byte[]> bytes = new LinkedHashMap<>();
        for (Path f : before.keySet()) bytes.put(f, Files.readAllBytes(f));

        Cli.Result r = Cli.run("experiment", "run", MICRO.toString(), "--out", dir.toString());
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(!r.err().contains("unet seed 0: training"), "the finished run is not trained again: " + r.err());
        Map<Path, FileTime> after = times(finished);
        assertEquals(before.keySet(), after.keySet());
        for (Path f : before.keySet()) {
            assertEquals(before.get(f), after.get(f), f + " was touched");
            assertArrayEquals(bytes.get(f), Files.readAllBytes(f), f + " changed");
        }
        assertEquals(metrics(full), metrics(dir), "same results as the uninterrupted experiment");
    }

    /** Every record's (arm, seed, step) -> metrics, images seen and training FLOPs. */
    static Map<String, Object> metrics(Path dir) throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String arm : List.of("unet", "udit")) {
            for (long seed : List.of(0L, 1L)) {
                for (EvalRecord rec : EvalRecord.readAll(dir.resolve("runs/" + arm + "/seed-" + seed))) {
                    out.put(arm + ":" + seed + ":" + rec.step(), List.of(rec.metrics(), rec.imagesSeen(), rec.trainFlops()));
                }
            }
        }
        assertEquals(8, out.size());
        return out;
    }

    static Map<Path, FileTime> times(Path dir) throws Exception {
        Map<Path, FileTime> out = new LinkedHashMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).sorted().toList()) out.put(p, Files.getLastModifiedTime(p));
        }
        return out;
    }

    /** A sweep scores the finished runs again at other sampler step counts; a second sweep reuses its points. */
    @Test
    void sweepScoresFinishedRunsAtSeveralStepCounts() throws Exception {
        assertEquals(0, fullRun.exitCode(), fullRun.all());
        Cli.Result r = Cli.run("experiment", "sweep", MICRO.toString(), "--out", full.toString(), "--arm", "udit", "--sampler-steps", "2,3");
        assertEquals(0, r.exitCode(), r.all());
        for (long seed : List.of(0L, 1L)) {
            for (int steps : List.of(2, 3)) {
                Path rec = full.resolve(String.format("sweeps/udit/heun2/seed-%d/steps_%05d.json", seed, steps));
                Map<String, Object> m = Json.parseObject(Files.readString(rec));
                assertEquals(4L, ((Number) m.get("training_step")).longValue());
                assertTrue(Files.isRegularFile(full.resolve(String.format("sweeps/udit/heun2/seed-%d/steps_%d/grid_step_0000004.png", seed, steps))));
            }
        }
        assertTrue(r.out().contains("| udit | heun2 | 3 |") && r.out().contains("| 2 |"), r.out());
        for (String plot : List.of("steps_frechet_distance.png", "steps_fidelity.png")) {
            assertTrue(isPng(full.resolve("sweeps").resolve(plot)), plot + " after a sweep over step counts");
        }
        // the step count the arm was evaluated with gives the evaluation's own figures
        Cli.Result own = Cli.run("experiment", "sweep", MICRO.toString(), "--out", full.toString(), "--arm", "udit", "--sampler-steps", "3", "--only", "0");
        assertEquals(0, own.exitCode(), own.all());
        double evaluated = EvalRecord.readAll(full.resolve("runs/udit/seed-0")).get(1).metrics().get("frechet_distance");
        Map<String, Object> swept = Json.parseObject(Files.readString(full.resolve("sweeps/udit/heun2/seed-0/steps_00003.json")));
        @SuppressWarnings("unchecked")
        double fd = ((Number) ((Map<String, Object>) swept.get("metrics")).get("frechet_distance")).doubleValue();
        assertEquals(evaluated, fd, 1e-6 * Math.max(1, evaluated));
        Cli.Result again = Cli.run("experiment", "sweep", MICRO.toString(), "--out", full.toString(), "--arm", "udit", "--sampler-steps", "2,3");
        assertEquals(r.out(), again.out(), "the same points, read back");
        Cli.Result unfinished = Cli.run("experiment", "sweep", MICRO.toString(), "--out", tmp.resolve("nothing-here").toString(), "--arm", "udit",
                "--sampler-steps", "2");
        assertEquals(2, unfinished.exitCode(), unfinished.all());
    }

    /**
     * A sweep over guidance scales at the arm's own sampler steps: one record per scale, the evaluation's own scale
     * giving the evaluation's figures and other scales other figures; a scale out of range exits 2 naming the option.
     */
    @Test
    void sweepScoresOtherGuidanceScales() throws Exception {
        assertEquals(0, fullRun.exitCode(), fullRun.all());
        Cli.Result r = Cli.run("experiment", "sweep", MICRO.toString(), "--out", full.toString(), "--arm", "udit", "--cfg-scales", "1,1.5,3",
                "--only", "0");
        assertEquals(0, r.exitCode(), r.all());
        Path seedDir = full.resolve("sweeps/udit/heun2/seed-0");
        Map<Double, Double> fdByScale = new LinkedHashMap<>();
        for (String name : List.of("steps_00003_cfg1.json", "steps_00003.json", "steps_00003_cfg3.json")) {
            Map<String, Object> m = Json.parseObject(Files.readString(seedDir.resolve(name)));
            assertEquals(3L, ((Number) m.get("steps")).longValue(), name);
            @SuppressWarnings("unchecked")
            double fd = ((Number) ((Map<String, Object>) m.get("metrics")).get("frechet_distance")).doubleValue();
            fdByScale.put(((Number) m.get("cfg_scale")).doubleValue(), fd);
        }
        assertEquals(List.of(1.0, 1.5, 3.0), new ArrayList<>(fdByScale.keySet()));
        assertTrue(Files.isRegularFile(seedDir.resolve("steps_3_cfg3/grid_step_0000004.png")));
        double evaluated = EvalRecord.readAll(full.resolve("runs/udit/seed-0")).get(1).metrics().get("frechet_distance");
        assertEquals(evaluated, fdByScale.get(1.5), 1e-6 * Math.max(1, evaluated), "the evaluation's own scale gives its figures");
        assertTrue(fdByScale.get(1.0) != evaluated && fdByScale.get(3.0) != evaluated, "other scales sample other images: " + fdByScale);
        assertTrue(r.out().contains("| udit | heun2 | 3 | 1 |") && r.out().contains("| udit | heun2 | 3 | 1.5 |")
                && r.out().contains("| udit | heun2 | 3 | 3 |"), r.out());
        for (String plot : List.of("guidance_frechet_distance.png", "guidance_fidelity.png", "guidance_frontier.png")) {
            assertTrue(isPng(full.resolve("sweeps").resolve(plot)), plot + " after a sweep over guidance scales");
        }
        Cli.Result twice = Cli.run("experiment", "sweep", MICRO.toString(), "--out", full.toString(), "--arm", "udit", "--cfg-scales", "1.5,1.5",
                "--sampler-steps", "3,3", "--only", "0");
        assertEquals(0, twice.exitCode(), twice.all());
        assertEquals(1, twice.out().lines().filter(l -> l.startsWith("| udit | heun2 | 3 | 1.5 |")).count(), twice.out());
        assertTrue(twice.out().lines().anyMatch(l -> l.startsWith("| udit | heun2 | 3 | 1.5 |") && l.endsWith("| 1 |")),
                "a value given twice is one point of one seed: " + twice.out());
        Cli.Result bad = Cli.run("experiment", "sweep", MICRO.toString(), "--out", full.toString(), "--arm", "udit", "--cfg-scales", "2,-1");
        assertEquals(2, bad.exitCode(), bad.all());
        assertTrue(bad.err().contains("--cfg-scales"), bad.err());
    }

    private static boolean isPng(Path p) throws java.io.IOException {
        if (!Files.isRegularFile(p)) return false;
        byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(p), 4);
        return head[0] == (byte) 0x89 && head[1] == 'P' && head[2] == 'N' && head[3] == 'G';
    }

    @Test
    void inceptionWeightsAddFidSfidIsPrecisionRecall() throws Exception {
        Path weights = tmp.resolve("fid-formula.pth");
        io.udit.io.WeightFiles.writeStateDict(weights, io.udit.eval.FidInceptionV3Test.formulaStateDict(true));
        Path one = tmp.resolve("one.json");
        Files.writeString(one, Files.readString(MICRO).replace("\"seeds\": [0, 1]", "\"seeds\": [0]")
                .replace("\"fractions\": [0.5, 1.0]", "\"fractions\": [1.0]").replace("\"per_class\": 4", "\"per_class\": 2"));
        Path dir = tmp.resolve("inception");
        Cli.Result r = Cli.run("experiment", "run", one.toString(), "--out", dir.toString(), "--only", "udit", "--inception", weights.toString());
        assertEquals(0, r.exitCode(), r.all());
        EvalRecord rec = EvalRecord.readAll(dir.resolve("runs/udit/seed-0")).get(0);
        for (String m : List.of("fid", "sfid", "inception_score", "precision", "recall")) {
            assertTrue(rec.metrics().containsKey(m) && Double.isFinite(rec.metrics().get(m)), m + " in " + rec.metrics());
        }
        assertTrue(Files.readAllLines(dir.resolve("results.csv")).get(0).endsWith(",frechet_distance,fidelity,fid,sfid,inception_score,precision,recall"));
    }

    @Test
    void computeBudgetGivesEachArmTheStepsThatSpendItAndTheScaleMultiplies() throws Exception {
        Map<String, Object> m = Json.parseObject(Files.readString(MICRO));
        @SuppressWarnings("unchecked")
        Map<String, Object> recipe = (Map<String, Object>) m.get("recipe");
        recipe.remove("steps");
        recipe.put("train_gflops", 50.0);
        ExperimentSpec spec = ExperimentSpec.fromMap(m);
        for (ExperimentSpec.Arm arm : spec.arms()) {
            long expected = Math.round(50e9 / (3.0 * arm.macsPerImage() * 4));
            assertEquals(expected, spec.stepsFor(arm, 1.0), arm.name());
            assertEquals(Math.round(2 * 50e9 / (3.0 * arm.macsPerImage() * 4)), spec.stepsFor(arm, 2.0), arm.name());
            assertEquals(List.of(Math.round(expected * 0.5), expected), spec.evaluationSteps(arm, 1.0));
        }
        assertTrue(spec.stepsFor(spec.arm("udit"), 1) > spec.stepsFor(spec.arm("unet"), 1), "the cheaper arm trains longer");
        recipe.put("steps", 10);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> ExperimentSpec.fromMap(m));
        assertTrue(e.getMessage().contains("exactly one of steps and train_gflops"), e.getMessage());
    }

    @Test
    void userMistakesExitTwoWithOneLine() throws Exception {
        String micro = Files.readString(MICRO);
        List<String[]> cases = new ArrayList<>();
        Path typo = tmp.resolve("typo.json");
        Files.writeString(typo, micro.replace("\"per_class\"", "\"per_clas\""));
        cases.add(new String[] {"did you mean 'evaluation.per_class'", "experiment", "run", typo.toString(), "--out", tmp.resolve("x1").toString()});
        Path runKey = tmp.resolve("runkey.json");
        Files.writeString(runKey, micro.replace("\"lr\": 0.001", "\"learning_rat\": 0.001"));
        cases.add(new String[] {"did you mean 'lr'", "experiment", "run", runKey.toString(), "--out", tmp.resolve("x2").toString()});
        cases.add(new String[] {"no arm 'udi' in experiment micro; did you mean 'udit'", "experiment", "run", MICRO.toString(),
                "--out", tmp.resolve("x3").toString(), "--only", "udi"});
        cases.add(new String[] {"seed 5 is not among", "experiment", "run", MICRO.toString(), "--out", tmp.resolve("x4").toString(), "--only", "udit:5"});
        cases.add(new String[] {"--budget-scale must be in", "experiment", "run", MICRO.toString(), "--out", tmp.resolve("x5").toString(), "--budget-scale", "0"});
        Path badModel = tmp.resolve("badmodel.json");
        Files.writeString(badModel, micro.replace("\"down_factor\": 1", "\"down_factor\": 3"));
        cases.add(new String[] {"arm 'unet'", "experiment", "run", badModel.toString(), "--out", tmp.resolve("x6").toString()});
        Path other = tmp.resolve("other");
        Path cfg = other.resolve("runs/udit/seed-1/config.json");
        Files.createDirectories(cfg.getParent());
        Files.writeString(cfg, Files.readString(full.resolve("runs/udit/seed-1/config.json")).replace("\"global_batch_size\": 4", "\"global_batch_size\": 8"));
        cases.add(new String[] {other.resolve("runs/udit/seed-1") + " holds a run of another config", "experiment", "run", MICRO.toString(), "--out", other.toString()});
        cases.add(new String[] {"no such file", "experiment", "run", tmp.resolve("missing.json").toString(), "--out", tmp.resolve("x7").toString()});
        Path manySteps = tmp.resolve("manysteps.json");
        Files.writeString(manySteps, micro.replace("\"steps\": 4,", "\"steps\": 1000000000000000,"));
        cases.add(new String[] {"recipe.steps: must be in [1, 2^40], got 1000000000000000", "experiment", "run", manySteps.toString(),
                "--out", tmp.resolve("x8").toString()});
        Path hugeBudget = tmp.resolve("hugebudget.json");
        Files.writeString(hugeBudget, micro.replace("\"steps\": 4,", "\"train_gflops\": 1e300,"));
        cases.add(new String[] {"arm 'unet': recipe.train_gflops: 1.0E300 gives more than 2^40 steps", "experiment", "run", hugeBudget.toString(), "--out", tmp.resolve("x9").toString()});
        for (String seed : List.of("1e30", "9007199254740993.5", "-1")) {
            Path badSeed = tmp.resolve("seed" + seed + ".json");
            Files.writeString(badSeed, micro.replace("\"seeds\": [0, 1]", "\"seeds\": [0, " + seed + "]"));
            cases.add(new String[] {"recipe.seeds: whole numbers in [0, 2^63), got ", "experiment", "run", badSeed.toString(),
                    "--out", tmp.resolve("x10").toString()});
        }
        // counts past the documented bounds are refused when the file is read, before any judge or calibration
        String manySeeds = java.util.stream.LongStream.range(0, 100_000).mapToObj(Long::toString).collect(java.util.stream.Collectors.joining(", "));
        Path seedsFile = tmp.resolve("manyseeds.json");
        Files.writeString(seedsFile, micro.replace("\"seeds\": [0, 1]", "\"seeds\": [" + manySeeds + "]"));
        cases.add(new String[] {"recipe.seeds: at most 1000 seeds, got 100000", "experiment", "run", seedsFile.toString(), "--out", tmp.resolve("x11").toString()});
        String arm = "{\"name\": \"a%d\", \"model\": {\"model\": \"micro\"}}";
        String manyArms = java.util.stream.IntStream.range(0, 300).mapToObj(i -> String.format(arm, i)).collect(java.util.stream.Collectors.joining(", "));
        Path armsFile = tmp.resolve("manyarms.json");
        Files.writeString(armsFile, micro.substring(0, micro.indexOf("\"arms\"")) + "\"arms\": [" + manyArms + "],\n"
                + micro.substring(micro.indexOf("\"evaluation\"")));
        cases.add(new String[] {"arms: at most 256 arms, got 300", "experiment", "run", armsFile.toString(), "--out", tmp.resolve("x12").toString()});
        String manyFractions = java.util.stream.IntStream.rangeClosed(1, 1000).mapToObj(i -> Double.toString(i / 1000.0)).collect(java.util.stream.Collectors.joining(", "));
        Path fractionsFile = tmp.resolve("manyfractions.json");
        Files.writeString(fractionsFile, micro.replace("\"fractions\": [0.5, 1.0]", "\"fractions\": [" + manyFractions + "]"));
        cases.add(new String[] {"evaluation.fractions: at most 100 fractions, got 1000", "experiment", "run", fractionsFile.toString(), "--out", tmp.resolve("x13").toString()});
        for (String[] c : cases) {
            String[] args = java.util.Arrays.copyOfRange(c, 1, c.length);
            Cli.Result r = Cli.run(args);
            assertEquals(2, r.exitCode(), String.join(" ", args) + ": " + r.all());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().contains(c[0]), r.err());
        }
        assertTrue(Files.readString(cfg).contains("\"global_batch_size\": 8"), "the other run's config is left as it was");
    }
}
