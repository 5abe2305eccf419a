package io.udit.train;

import io.udit.engine.Engine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A NaN/Inf loss stops training before the update (or the step is skipped), never poisoning a checkpoint. */
class NonFiniteTest {
    @TempDir
    Path tmp;

    static TrainConfig exploding() {
        // an absurd learning rate drives the weights to Inf within a few steps
        return new TrainConfig(TrainerTest.microConfig(), 4, 4, 30, 1e30, 0.0, 0.9, 0.999, 0.99, true, false, 1,
                1, 1, 100, 0, 1, "ddim", 3, 1.0, "linear", 1000, true, 1, 0.0, 0, 0.0);
    }

    @Test
    void stopsWithTheStepAndKeepsFiniteCheckpoints() throws Exception {
        Engine.init();
        Trainer.NonFiniteException e = assertThrows(Trainer.NonFiniteException.class,
                () -> new Trainer(exploding(), TrainerTest.microData(), tmp, false, null).run());
        assertTrue(e.getMessage().contains("at step") && e.getMessage().contains("lower --lr"), e.getMessage());
        for (Path p : TrainingCheckpoint.list(tmp.resolve("checkpoints"))) {
            var model = TrainerTest.microConfig().build(0);
            TrainingCheckpoint.load(p, model, new Ema(model).model(), null);
            for (var t : model.stateDict().values()) assertTrue(t.isfinite().all().item_bool(), p + " holds non-finite weights");
        }
    }

    @Test
    void skipModeCarriesOn() throws Exception {
        Engine.init();
        Trainer t = new Trainer(exploding(), TrainerTest.microData(), tmp.resolve("skip"), false, null).skipNonFiniteSteps(true);
        Trainer.Result r = t.run();
        assertEquals(30, r.finalStep());
        assertTrue(t.skippedSteps() > 0, "no step was skipped");
    }
}
