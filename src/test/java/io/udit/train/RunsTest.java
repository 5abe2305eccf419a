package io.udit.train;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.io.Json;
import io.udit.io.TorchCheckpoint;
import io.udit.testing.ChildCli;
import io.udit.testing.Cli;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A run folder is never silently destroyed: ownership, no silent restarts, resume from the folder, I/O failures. */
class RunsTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void init() {
        Engine.init();
    }

    static final String MICRO = "{\"input_size\": 16, \"in_channels\": 3, \"hidden_size\": 16, \"num_heads\": 2, \"depth\": [1, 1, 1, 1, 1],"
            + " \"mlp_ratio\": 2, \"num_classes\": 4, \"attn_type\": \"v2\", \"posemb_type\": \"rope2d\", \"downsampler\": \"dwconv5\","
            + " \"down_shortcut\": 1}";

    Path micro(String name, String json) throws Exception {
        Path p = tmp.resolve(name);
        Files.writeString(p, json);
        return p;
    }

    String[] train(Path run, long steps, String... extra) throws Exception {
        List<String> a = new ArrayList<>(List.of("train", "--data", "synthetic:4", "--resolution", "16",
                "--config", micro("micro.json", MICRO).toString(), "--run-dir", run.toString(), "--steps", String.valueOf(steps),
                "--batch", "4", "--checkpoint-every", "2", "--sample-every", "0", "--log-every", "1", "--lr", "1e-3",
                "--seed", "3", "--workers", "1"));
        a.addAll(List.of(extra));
        return a.toArray(new String[0]);
    }

    /** Path -> SHA-256 of every regular file below a folder. */
    static Map<String, String> snapshot(Path dir) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (Files.isRegularFile(p) && !p.getFileName().toString().equals(".lock")) {
                    out.put(dir.relativize(p).toString(), HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
                }
            }
        }
        return out;
    }

    static List<Double> losses(Path run) throws Exception {
        List<Double> out = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("log.jsonl"))) {
            Map<String, Object> m = Json.parseObject(line);
            if (m.get("loss") instanceof Number n) out.add(n.doubleValue());
        }
        return out;
    }

    static void assertSameWeights(Path a, Path b) throws Exception {
        for (String key : new String[] {"model", "ema"}) {
            Map<String, Tensor> x = TorchCheckpoint.readStateDict(a, key), y = TorchCheckpoint.readStateDict(b, key);
            assertEquals(x.keySet(), y.keySet());
            for (String k : x.keySet()) assertEquals(0.0, Tensors.maxAbsDiff(x.get(k), y.get(k)), key + "." + k);
        }
    }

    @Test
    void aUsedFolderIsNotStartedAgainWithoutResume() throws Exception {
        Path run = tmp.resolve("run");
        assertEquals(0, Cli.run(train(run, 4)).exitCode());
        Map<String, String> before = snapshot(run);
        Cli.Result again = Cli.run(train(run, 2));
        assertEquals(2, again.exitCode(), again.all());
        assertTrue(again.err().contains("--resume") && again.err().contains("--overwrite"), again.err());
        assertEquals(before, snapshot(run), "the refused start changed the folder");
    }

    @Test
    void overwriteMovesTheOldRunAside() throws Exception {
        Path run = tmp.resolve("run");
        assertEquals(0, Cli.run(train(run, 4)).exitCode());
        Map<String, String> before = snapshot(run);
        Cli.Result r = Cli.run(train(run, 2, "--overwrite"));
        assertEquals(0, r.exitCode(), r.all());
        assertEquals(2, losses(run).size());
        Path aside;
        try (Stream<Path> s = Files.list(tmp)) {
            aside = s.filter(p -> p.getFileName().toString().startsWith("run.replaced-")).findFirst().orElseThrow();
        }
        assertEquals(before, snapshot(aside), "the replaced run is kept whole beside the new one");
    }

    @Test
    void resumeContinuesFromTheFolderAloneAndReproducesTheUninterruptedRun() throws Exception {
        Path whole = tmp.resolve("whole"), parts = tmp.resolve("parts");
        assertEquals(0, Cli.run(train(whole, 6)).exitCode());
        assertEquals(0, Cli.run(train(parts, 4)).exitCode());
        Cli.Result r = Cli.run("train", "--run-dir", parts.toString(), "--resume", "--steps", "6");
        assertEquals(0, r.exitCode(), r.all());
        assertEquals(losses(whole), losses(parts));
        assertSameWeights(whole.resolve("checkpoints/step_0000006.pt"), parts.resolve("checkpoints/step_0000006.pt"));
        assertTrue(Files.readString(parts.resolve("log.jsonl")).contains("\"steps\""), "the changed step count is recorded in the log");
    }

    @Test
    void theRunConfigReproducesARun() throws Exception {
        Path r1 = tmp.resolve("r1"), r2 = tmp.resolve("r2");
        assertEquals(0, Cli.run(train(r1, 4)).exitCode());
        Cli.Result r = Cli.run("train", "--config", r1.resolve("config.json").toString(), "--run-dir", r2.toString());
        assertEquals(0, r.exitCode(), r.all());
        assertEquals(losses(r1), losses(r2));
        assertSameWeights(r1.resolve("checkpoints/step_0000004.pt"), r2.resolve("checkpoints/step_0000004.pt"));
    }

    @Test
    void anUnknownConfigKeyNamesTheNearestValidKey() throws Exception {
        Path cfg = micro("bad.json", "{\"data\": \"synthetic:4\", \"model\": " + MICRO + ", \"learning_rat\": 0.001}");
        Cli.Result r = Cli.run("train", "--config", cfg.toString(), "--run-dir", tmp.resolve("x").toString());
        assertEquals(2, r.exitCode(), r.all());
        assertTrue(r.err().contains("learning_rat") && r.err().contains("'lr'"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    @Test
    void resumeWithAnotherIdentityIsRefusedListingTheDifferences() throws Exception {
        Path run = tmp.resolve("run");
        assertEquals(0, Cli.run(train(run, 4)).exitCode());
        Map<String, String> before = snapshot(run);
        Path wider = micro("wider.json", MICRO.replace("\"hidden_size\": 16", "\"hidden_size\": 32"));
        Cli.Result r = Cli.run("train", "--run-dir", run.toString(), "--resume", "--config", wider.toString(), "--seed", "9",
                "--steps", "6");
        assertEquals(2, r.exitCode(), r.all());
        assertTrue(r.err().contains("hidden_size") && r.err().contains("seed"), r.err());
        assertEquals(before, snapshot(run));
    }

    @Test
    void aCheckpointThatDoesNotFitTheModelIsExit2NotARestart() throws Exception {
        Path run = tmp.resolve("run"), other = tmp.resolve("other");
        assertEquals(0, Cli.run(train(run, 2)).exitCode());
        Path wider = micro("wider.json", MICRO.replace("\"hidden_size\": 16", "\"hidden_size\": 32"));
        String[] a = train(other, 4);
        a[6] = wider.toString();
        assertEquals(0, Cli.run(a).exitCode());
        Files.copy(other.resolve("checkpoints/step_0000004.pt"), run.resolve("checkpoints/step_0000004.pt"));
        Map<String, String> before = snapshot(run);
        Cli.Result r = Cli.run("train", "--run-dir", run.toString(), "--resume", "--steps", "6");
        assertEquals(2, r.exitCode(), r.all());
        assertTrue(r.err().contains("step_0000004.pt") && r.err().contains("shape"), r.err());
        String line = r.err().lines().filter(l -> l.contains("does not fit")).findFirst().orElseThrow();
        assertTrue(line.length() < 400 && !r.err().contains("missing keys ("), "one line, not a dump: " + r.err());
        assertEquals(before, snapshot(run));
    }

    @Test
    void strayCheckpointNamesAreIgnoredAndTheStoredStepIsTheTruth() throws Exception {
        Path run = tmp.resolve("run");
        assertEquals(0, Cli.run(train(run, 4)).exitCode());
        Path ckpts = run.resolve("checkpoints");
        Files.copy(ckpts.resolve("step_0000004.pt"), ckpts.resolve("step_99999999999999999999.pt"));
        // a renamed file: its name claims step 9, it holds step 2
        Files.copy(ckpts.resolve("step_0000002.pt"), ckpts.resolve("step_0000009.pt"));
        Files.delete(ckpts.resolve("step_0000004.pt"));
        Cli.Result r = Cli.run("train", "--run-dir", run.toString(), "--resume", "--steps", "4");
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.err().contains("step_99999999999999999999.pt"), "the stray name is reported: " + r.err());
        assertTrue(r.err().contains("(step 2)"), r.err());
        assertEquals(4, losses(run).size(), "steps 3 and 4 were trained again from step 2");
    }

    @Test
    void staleTemporaryFilesAreRemovedWhenTheRunStarts() throws Exception {
        Path run = tmp.resolve("run");
        assertEquals(0, Cli.run(train(run, 2)).exitCode());
        Path stale1 = run.resolve("checkpoints/.step_0000004.pt.123.tmp"), stale2 = run.resolve("checkpoints/.opt-77.tmp");
        Files.write(stale1, new byte[1000]);
        Files.write(stale2, new byte[1000]);
        assertEquals(0, Cli.run("train", "--run-dir", run.toString(), "--resume", "--steps", "2").exitCode());
        assertFalse(Files.exists(stale1) || Files.exists(stale2));
    }

    @Test
    void oneTrainerOwnsARunFolder() throws Exception {
        Path run = tmp.resolve("run"), log = tmp.resolve("child.log");
        Process first = ChildCli.start(log, train(run, 100000));
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!Files.exists(run.resolve("log.jsonl")) && System.nanoTime() < deadline) {
                assertTrue(first.isAlive(), () -> read(log));
                Thread.sleep(20);
            }
            Cli.Result second = Cli.run("train", "--run-dir", run.toString(), "--resume", "--steps", "100000");
            assertEquals(2, second.exitCode(), second.all());
            assertTrue(second.err().contains("pid " + first.pid()), second.err());
            assertTrue(first.isAlive(), "the first trainer goes on");
        } finally {
            first.destroyForcibly();
            first.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aFullDiskStopsTheRunWithoutLosingAnything() throws Exception {
        Path run = tmp.resolve("run");
        assertEquals(0, Cli.run(train(run, 4)).exitCode());
        List<String> logBefore = Files.readAllLines(run.resolve("log.jsonl"));
        Map<String, String> ckptsBefore = snapshot(run.resolve("checkpoints"));
        long checkpointKib = Files.size(run.resolve("checkpoints/step_0000004.pt")) / 1024;
        // writes larger than 1/4 of a checkpoint fail with EFBIG, as on a full disk
        ChildCli.Result r = ChildCli.runWithFileSizeLimit(tmp.resolve("child.log"), checkpointKib / 4,
                train(run, 8, "--resume"));
        assertNotEquals(134, r.exitCode(), "the JVM aborted:\n" + r.output());
        assertEquals(2, r.exitCode(), r.output());
        assertTrue(r.output().contains("File too large"), r.output());
        assertFalse(r.output().contains("\tat "), "no stack trace:\n" + r.output());
        assertTrue(r.output().contains("resuming from") && r.output().contains("step_0000004.pt"), r.output());
        List<String> logAfter = Files.readAllLines(run.resolve("log.jsonl"));
        assertEquals(logBefore, logAfter.subList(0, logBefore.size()), "logged lines were lost");
        Map<String, String> ckptsAfter = snapshot(run.resolve("checkpoints"));
        assertEquals(ckptsBefore, ckptsAfter, "checkpoints changed or temporary files were left behind");
    }

    @Test
    void aCheckpointWriteThatFailsInTheFirstRunLeavesNoTemporaryFiles() throws Exception {
        Path run = tmp.resolve("run");
        ChildCli.Result r = ChildCli.runWithFileSizeLimit(tmp.resolve("child.log"), 64, train(run, 2));
        assertNotEquals(134, r.exitCode(), "the JVM aborted:\n" + r.output());
        assertEquals(2, r.exitCode(), r.output());
        try (Stream<Path> s = Files.walk(run)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "temporary files left");
        }
    }

    static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (Exception e) {
            return "";
        }
    }

    static void copy(Path a, Path b) throws Exception {
        Files.copy(a, b, StandardCopyOption.REPLACE_EXISTING);
    }
}
