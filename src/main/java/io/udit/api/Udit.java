package io.udit.api;

import io.udit.data.Dataset;
import io.udit.engine.Engine;
import io.udit.model.ModelConfig;
import io.udit.train.RunConfig;
import io.udit.train.RunFolder;
import io.udit.train.Trainer;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The entry point for applications that embed udit: load a model and sample, or train from a config object.
 *
 * <pre>{@code
 * DiffusionModel m = Udit.load(Path.of("runs/demo/checkpoints/step_0003000.pt"));
 * List<BufferedImage> images = m.sampleImages(m.request(0, 1, 2).cfgScale(3.0).build(), null);
 * }</pre>
 */
public final class Udit {
    private Udit() {}

    /** Loads weights whose file records the model config (udit and reference training checkpoints); EMA weights. */
    public static DiffusionModel load(Path checkpoint) throws IOException {
        return load(checkpoint, null, null);
    }

    /** Loads weights for a given config (needed for bare state dicts); {@code key} "ema" / "model" or null. */
    public static DiffusionModel load(Path weights, ModelConfig config, String key) throws IOException {
        Engine.init();
        ModelFiles.Loaded l = ModelFiles.load(weights, key, config);
        return new DiffusionModel(l.model(), l.noiseSchedule(), l.transport());
    }

    /**
     * Trains a run in {@code runDir} ({@code start}: a new run in an empty folder, resume the run there, or move an
     * existing run aside); the listener sees every optimizer step.
     */
    public static Trainer.Result train(RunConfig config, Dataset data, Path runDir, RunFolder.Start start,
                                       Trainer.Listener listener) throws IOException {
        Engine.init();
        return new Trainer(config, data, runDir, start, listener).run();
    }
}
