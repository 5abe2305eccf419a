package io.udit.cli;

import io.udit.api.ModelFiles;
import io.udit.diffusion.ClassifierFreeGuidance;
import io.udit.engine.Engine;
import io.udit.io.Json;
import io.udit.io.Npz;
import io.udit.sample.SampleRequest;
import io.udit.sample.Sampling;
import org.bytedeco.pytorch.Tensor;
import io.udit.testing.ChildCli;
import io.udit.testing.Cli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `udit demo` end to end at toy scale: training as a two-process data-parallel job, sampling, metrics, report. */
class DemoCliTest {
    @Test
    void demoTrainsInTwoProcessesAndWritesItsReport(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("run");
        // in a JVM of its own, so that what its ranks write to the native stdout is seen too
        ChildCli.Result r = ChildCli.run(tmp.resolve("demo.log"), "demo", "--steps", "3", "--minutes", "5", "--per-class", "2",
                "--sampler-steps", "4", "--procs", "2", "--out", dir.toString());
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("in 2 processes"), r.output());
        assertTrue(r.output().contains("sample [") && r.output().contains(" 8/8 "), "rank 0 samples 8 of the 16 images: " + r.output());
        assertFalse(r.output().contains("[Gloo]"), "Gloo's connection report reaches the user: " + r.output());
        for (String f : List.of("report.md", "grid.png", "loss.png", "metrics.json", "samples.npz", "log.jsonl", "config.json")) {
            assertTrue(Files.size(dir.resolve(f)) > 0, f);
        }
        Map<String, Object> m = Json.parseObject(Files.readString(dir.resolve("metrics.json")));
        assertEquals(3.0, ((Number) m.get("train_steps")).doubleValue());
        assertEquals(2.0, ((Number) m.get("train_processes")).doubleValue());
        double fidelity = ((Number) m.get("class_fidelity")).doubleValue();
        assertTrue(fidelity >= 0 && fidelity <= 1, "fidelity " + fidelity);
        // a data-parallel step averages gradients over the ranks and logs how long that took
        String log = Files.readString(dir.resolve("log.jsonl"));
        assertTrue(log.contains("\"allreduce_s\""), log);
        String report = Files.readString(dir.resolve("report.md"));
        assertTrue(report.contains("class fidelity") && report.contains("grid.png"), report);
        assertTrue(m.get("sampler").toString().endsWith("cfg 3.0"), m.get("sampler").toString());

        Engine.init();
        // each rank sampled half of the images: together they equal one process sampling the final EMA weights
        ModelFiles.Loaded ema = ModelFiles.load(dir.resolve("checkpoints").resolve("step_0000003.pt"), "ema", null);
        long[] labels = new long[16];
        for (int i = 0; i < labels.length; i++) labels[i] = i / 2;
        SampleRequest req = SampleRequest.builder(labels).sampler("dpm++sde").steps(4).cfgScale(3.0 /* the synthetic default */)
                .clip(true).noiseSchedule(ema.noiseSchedule()).build();
        Tensor single = Sampling.toUint8Nhwc(Sampling.generate(ema.model(), req, Sampling.Progress.NONE));
        Tensor sharded = Npz.read(dir.resolve("samples.npz")).get("arr_0");
        assertEquals(0L, single.ne(sharded).sum().item_long(), "two-process samples differ from one process's");
        assertTrue(single.to(org.bytedeco.pytorch.global.torch.ScalarType.Float).std().item_double() > 1, "samples are not blank");
    }

    @Test
    void badProcessCountIsAUserError(@TempDir Path tmp) {
        Cli.Result r = Cli.run("demo", "--procs", "3", "--steps", "1", "--out", tmp.resolve("x").toString());
        assertEquals(2, r.exitCode(), r.all());
        assertTrue(r.err().contains("--nproc-per-node must divide the batch"), r.err()); // --procs is its old name
        Cli.Result s = Cli.run("demo", "--sampler", "euler", "--steps", "1", "--out", tmp.resolve("y").toString());
        assertEquals(2, s.exitCode(), s.all());
        assertTrue(s.err().contains("sampler 'euler' does not fit") && s.err().contains("dpm++sde"), s.err());
        assertTrue(!Files.exists(tmp.resolve("y").resolve("checkpoints")), "nothing trained");
        for (String[] bad : new String[][] {{"--batch", "0", "--batch must be"}, {"--lr", "-1", "--lr must be"},
                {"--cooldown", "2", "--cooldown must be"}}) {
            Cli.Result b = Cli.run("demo", bad[0], bad[1], "--steps", "1", "--out", tmp.resolve("z").toString());
            assertEquals(2, b.exitCode(), b.all());
            assertTrue(b.err().contains(bad[2]), b.err());
        }
        assertTrue(!Files.exists(tmp.resolve("z")), "nothing written");
    }

    /**
     * A folder that holds a run, or a path that is not a folder, is refused with one line before any training process
     * starts (two are asked for here), and the folder is left as it was; a bad number leaves no folder behind.
     */
    @Test
    void aRunFolderInUseOrNotAFolderIsRefusedBeforeAnyProcessStarts(@TempDir Path tmp) throws Exception {
        Path old = Files.createDirectories(tmp.resolve("old"));
        Files.writeString(old.resolve("config.json"), "{}");
        Cli.Result r = Cli.run("demo", "--nproc-per-node", "2", "--steps", "1", "--run-dir", old.toString());
        assertEquals(2, r.exitCode(), r.all());
        assertEquals(1, r.err().strip().lines().count(), r.all());
        assertTrue(r.err().contains(old.toString()) && r.err().contains("already holds a run") && r.err().contains("--run-dir"), r.err());
        try (var files = Files.list(old)) {
            assertEquals(List.of("config.json"), files.map(f -> f.getFileName().toString()).toList());
        }
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        Cli.Result f = Cli.run("demo", "--steps", "1", "--run-dir", file.toString());
        assertEquals(2, f.exitCode(), f.all());
        assertEquals(1, f.err().strip().lines().count(), f.all());
        assertTrue(f.err().contains(file + " is not a directory"), f.err());
        for (String[] bad : new String[][] {{"--minutes", "0"}, {"--steps", "0"}, {"--per-class", "1000000000"}, {"--nproc-per-node", "3"}}) {
            Path fresh = tmp.resolve("fresh" + bad[0]);
            Cli.Result b = Cli.run("demo", bad[0], bad[1], "--run-dir", fresh.toString());
            assertEquals(2, b.exitCode(), b.all());
            assertTrue(b.err().contains(bad[0]), b.err());
            assertFalse(Files.exists(fresh), bad[0] + " " + bad[1] + " made the run folder");
        }
    }
}
