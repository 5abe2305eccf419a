package io.udit.train;

import io.udit.engine.Engine;
import io.udit.io.CheckpointFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checksummed checkpoints: corruption is detected, and --resume falls back to the newest valid one saying why. */
class CheckpointIntegrityTest {
    @TempDir
    Path tmp;

    @Test
    void corruptedCheckpointsAreSkippedOnResume() throws Exception {
        Engine.init();
        RunConfig c = TrainerTest.config(4, 2);
        Trainer.Result r = new Trainer(c, TrainerTest.microData(), tmp, RunFolder.Start.NEW, null).run();
        Path ckpts = tmp.resolve("checkpoints");
        List<Path> files = TrainingCheckpoint.list(ckpts);
        assertEquals(2, files.size());
        // change one weight value but keep the file well-formed: only the checksum can tell
        Path newest = files.get(0);
        @SuppressWarnings("unchecked")
        java.util.Map<String, Object> tree = (java.util.Map<String, Object>) io.udit.io.TorchCheckpoint.read(newest);
        @SuppressWarnings("unchecked")
        var sd = (java.util.Map<String, org.bytedeco.pytorch.Tensor>) tree.get("model");
        try (var g = new org.bytedeco.pytorch.NoGradGuard()) {
            sd.get("x_embedder.proj.bias").add_(new org.bytedeco.pytorch.Scalar(1e-3));
        }
        io.udit.io.TorchCheckpointWriter.write(newest, tree);
        var model = c.model().build(0);
        var ema = new Ema(model);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> TrainingCheckpoint.load(newest, model, ema.model(), null));
        assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
        // a flipped byte anywhere is refused too (by the zip, pickle or checksum checks)
        Path flipped = tmp.resolve("flipped.pt");
        byte[] bytes = Files.readAllBytes(files.get(1));
        for (int at : new int[] {bytes.length / 3, bytes.length / 2, 2 * bytes.length / 3}) {
            byte[] copy = bytes.clone();
            copy[at] ^= 0x40;
            Files.write(flipped, copy);
            assertThrows(java.io.IOException.class, () -> TrainingCheckpoint.load(flipped, model, ema.model(), null), "flip at " + at);
        }

        // resume: the corrupted step-4 file is skipped with a message, step 2 is used, and training reaches step 4 again
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream old = System.err;
        System.setErr(new java.io.PrintStream(err, true));
        Trainer.Result resumed;
        try {
            resumed = new Trainer(c, TrainerTest.microData(), tmp, RunFolder.Start.RESUME, null).run();
        } finally {
            System.setErr(old);
        }
        String log = err.toString();
        assertTrue(log.contains("skipping checkpoint") && log.contains("step_0000004.pt"), log);
        assertTrue(log.contains("resuming from") && log.contains("step_0000002.pt"), log);
        assertEquals(List.of(r.losses().get(2), r.losses().get(3)), resumed.losses());
    }

    @Test
    void truncatedCheckpointIsRejected() throws Exception {
        Engine.init();
        RunConfig c = TrainerTest.config(2, 2);
        new Trainer(c, TrainerTest.microData(), tmp, RunFolder.Start.NEW, null).run();
        Path f = TrainingCheckpoint.list(tmp.resolve("checkpoints")).get(0);
        Path cut = tmp.resolve("cut.pt");
        Files.copy(f, cut, StandardCopyOption.REPLACE_EXISTING);
        byte[] b = Files.readAllBytes(cut);
        Files.write(cut, java.util.Arrays.copyOf(b, b.length - 100));
        var model = c.model().build(0);
        assertThrows(java.io.IOException.class, () -> TrainingCheckpoint.load(cut, model, new Ema(model).model(), null));
    }

    @Test
    void aFailedWriteStopsTheRunAndKeepsThePreviousCheckpoint() throws Exception {
        Engine.init();
        RunConfig c = TrainerTest.config(4, 2);
        // once step 3 is done, the step-4 checkpoint's name is taken by a directory, so its write fails (as a full
        // disk or a permission error would make it fail)
        Trainer.Listener blockStep4 = s -> {
            if (s.step() == 3) {
                try {
                    Files.createDirectories(tmp.resolve("checkpoints/step_0000004.pt"));
                } catch (java.io.IOException ex) {
                    throw new java.io.UncheckedIOException(ex);
                }
            }
        };
        java.io.IOException e = assertThrows(java.io.IOException.class,
                () -> new Trainer(c, TrainerTest.microData(), tmp, RunFolder.Start.NEW, blockStep4).run());
        assertTrue(e.getMessage().contains("writing checkpoint") && e.getMessage().contains("step_0000002.pt is intact"), e.getMessage());
        var model = c.model().build(0);
        TrainingCheckpoint.Loaded l = TrainingCheckpoint.load(tmp.resolve("checkpoints/step_0000002.pt"), model, new Ema(model).model(), null);
        assertEquals(2, l.step());
        try (var files = Files.list(tmp.resolve("checkpoints"))) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")), "temp files left behind");
        }
    }
}
