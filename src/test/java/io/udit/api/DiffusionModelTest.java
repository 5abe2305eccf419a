package io.udit.api;

import io.udit.engine.Engine;
import io.udit.sample.SampleRequest;
import io.udit.train.RunConfig;
import io.udit.train.RunFolder;
import io.udit.train.Trainer;
import io.udit.data.Dataset;
import io.udit.data.SyntheticShapes;
import io.udit.io.Json;
import io.udit.model.ModelConfig;
import io.udit.model.ModelConfigs;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A loaded model's default request samples the way the model was trained: its noise schedule, or its flow transport. */
class DiffusionModelTest {
    @TempDir
    static Path tmp;

    @BeforeAll
    static void init() {
        Engine.init();
    }

    static ModelConfig microConfig() {
        return ModelConfigs.fromMap(Json.parseObject("{\"input_size\": 16, \"in_channels\": 3, \"hidden_size\": 16,"
                + " \"num_heads\": 2, \"depth\": [1, 1, 1, 1, 1], \"mlp_ratio\": 2, \"num_classes\": 4,"
                + " \"downsampler\": \"dwconv5\", \"down_shortcut\": 1}"));
    }

    static Dataset microData() {
        return new SyntheticShapes(3, 16, 64, 4);
    }

    static RunConfig.Builder micro() {
        return RunConfig.builder(microConfig(), "synthetic:4").batch(8, 8).steps(1).lr(1e-3).seed(1)
                .checkpointEvery(1).sampleEvery(0).loaderWorkers(1);
    }

    @Test
    void aDdpmModelSamplesWithItsOwnNoiseSchedule() throws Exception {
        Trainer.Result r = Udit.train(micro().noiseSchedule("cosine-shift0.25").build(), microData(), tmp.resolve("ddpm"),
                RunFolder.Start.NEW, null);
        DiffusionModel m = Udit.load(r.lastCheckpoint());
        SampleRequest req = m.request(0, 1).build();
        assertEquals("cosine-shift0.25", req.noiseSchedule(), "the request must use the schedule the model was trained with");
        assertEquals("dpm++", req.sampler());
        assertNull(req.transport());
        assertEquals(2 * 3 * 16 * 16, m.sampleArray(req, null).length);
    }

    @Test
    void aFlowModelSamplesWithItsTransport() throws Exception {
        RunConfig c = micro().model(microConfig().withLearnSigma(false)).objective("flow")
                .flow(new RunConfig.FlowSettings("linear", "velocity", "none", null, null, "uniform", 0.0, 1.0)).build();
        Trainer.Result r = Udit.train(c, microData(), tmp.resolve("flow"), RunFolder.Start.NEW, null);
        DiffusionModel m = Udit.load(r.lastCheckpoint());
        SampleRequest req = m.request(0, 1).steps(3).build();
        assertNotNull(req.transport(), "a flow model's request carries its transport");
        assertEquals("heun2", req.sampler());
        float[] x = m.sampleArray(req, null);
        assertEquals(2 * 3 * 16 * 16, x.length);
        for (float v : x) assertTrue(Float.isFinite(v));
    }
}
