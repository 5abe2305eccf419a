package io.udit.train;

import io.udit.engine.Engine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A NaN/Inf loss stops training before the update (or the step is skipped), never poisoning a checkpoint. */
class NonFiniteTest {
    @TempDir
    Path tmp;

    static RunConfig exploding() {
        // an absurd learning rate drives the weights to Inf within a few steps
        return TrainerTest.builder(30, 1).batch(4, 4).lr(1e30).keepCheckpoints(100).previewSteps(3).gradClip(0).warmupSteps(0).build();
    }

    @Test
    void stopsWithTheStepAndKeepsFiniteCheckpoints() throws Exception {
        Engine.init();
        Trainer.NonFiniteException e = assertThrows(Trainer.NonFiniteException.class,
                () -> new Trainer(exploding(), TrainerTest.microData(), tmp, RunFolder.Start.NEW, null).run());
        assertTrue(e.getMessage().contains("at step") && e.getMessage().contains("lower --lr"), e.getMessage());
        for (Path p : TrainingCheckpoint.list(tmp.resolve("checkpoints"))) {
            var model = TrainerTest.microConfig().build(0);
            TrainingCheckpoint.load(p, model, new Ema(model).model(), null);
            for (var t : model.stateDict().values()) assertTrue(t.isfinite().all().item_bool(), p + " holds non-finite weights");
        }
    }

    /**
     * With activation checkpointing the blocks are updated within the backward (BlockwiseAdamW): a non-finite
     * gradient still stops the run before it reaches a weight, and no checkpoint holds a non-finite weight.
     */
    @Test
    void stopsWithTheStepWhenBlocksAreUpdatedWithinTheBackward() throws Exception {
        Engine.init();
        Trainer.NonFiniteException e = assertThrows(Trainer.NonFiniteException.class, () -> new Trainer(
                exploding().toBuilder().checkpointActivations(true).build(), TrainerTest.microData(), tmp.resolve("ckpt"),
                RunFolder.Start.NEW, null).run());
        assertTrue(e.getMessage().contains("at step") && e.getMessage().contains("non-finite gradient"), e.getMessage());
        List<Path> saved = TrainingCheckpoint.list(tmp.resolve("ckpt").resolve("checkpoints"));
        assertTrue(!saved.isEmpty(), "no checkpoint before the stop");
        for (Path p : saved) {
            var model = TrainerTest.microConfig().build(0);
            TrainingCheckpoint.load(p, model, new Ema(model).model(), null);
            for (var t : model.stateDict().values()) assertTrue(t.isfinite().all().item_bool(), p + " holds non-finite weights");
        }
    }

    @Test
    void skipModeCarriesOn() throws Exception {
        Engine.init();
        Trainer t = new Trainer(exploding().toBuilder().skipNonFinite(true).build(), TrainerTest.microData(), tmp.resolve("skip"), RunFolder.Start.NEW, null);
        Trainer.Result r = t.run();
        assertEquals(30, r.finalStep());
        assertTrue(t.skippedSteps() > 0, "no step was skipped");
    }
}
