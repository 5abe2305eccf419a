package io.udit.train;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.model.Backbone;
import io.udit.sample.SampleRequest;
import io.udit.sample.Sampling;
import io.udit.transport.FlowPath;
import io.udit.transport.LossWeight;
import io.udit.transport.Prediction;
import io.udit.transport.Transport;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Flow-matching runs keep the DDPM path's guarantees: exact resume, finite learning, batch-independent samples. */
class FlowTrainingTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void init() {
        Engine.init();
    }

    static RunConfig flow(long steps, String prediction, String timesteps) {
        return TrainerTest.builder(steps, 2).model(TrainerTest.microConfig().withLearnSigma(false)).objective("flow")
                .flow(new RunConfig.FlowSettings("linear", prediction, "none", null, null, timesteps, 0.0, 1.0)).build();
    }

    @Test
    void aResumedFlowRunRepeatsTheUninterruptedOne() throws Exception {
        Trainer.Result full = new Trainer(flow(4, "velocity", "logit-normal"), TrainerTest.microData(), tmp.resolve("a"), RunFolder.Start.NEW, null).run();
        new Trainer(flow(2, "velocity", "logit-normal"), TrainerTest.microData(), tmp.resolve("b"), RunFolder.Start.NEW, null).run();
        Trainer.Result resumed = new Trainer(flow(4, "velocity", "logit-normal"), TrainerTest.microData(), tmp.resolve("b"), RunFolder.Start.RESUME, null).run();
        assertEquals(full.losses().subList(2, 4), resumed.losses());
        Map<String, Tensor> a = full.ema().stateDict(), b = resumed.ema().stateDict();
        for (String k : a.keySet()) assertEquals(0.0, Tensors.maxAbsDiff(a.get(k), b.get(k)), k);
        for (double l : full.losses()) assertTrue(Double.isFinite(l) && l > 0, "loss " + l);
    }

    @Test
    void everyPredictionTrainsAndDiffersFromDdpm() throws Exception {
        Trainer.Result ddpm = new Trainer(TrainerTest.config(2, 2), TrainerTest.microData(), tmp.resolve("d"), RunFolder.Start.NEW, null).run();
        for (String p : new String[] {"velocity", "noise", "score"}) {
            Trainer.Result r = new Trainer(flow(2, p, "uniform"), TrainerTest.microData(), tmp.resolve(p), RunFolder.Start.NEW, null).run();
            for (double l : r.losses()) assertTrue(Double.isFinite(l), p + " loss " + l);
            assertNotEquals(ddpm.losses(), r.losses());
        }
    }

    @Test
    void flowSamplesDoNotDependOnTheBatchSizeAndWrongSamplersAreRefused() throws Exception {
        Backbone model = TrainerTest.microConfig().withLearnSigma(false).build(5);
        Transport tr = Transport.create(FlowPath.parse("linear"), Prediction.parse("velocity"), LossWeight.parse("none"));
        long[] labels = {0, 1, 2, 3, 0};
        for (String sampler : new String[] {"heun2", "sde-euler"}) {
            SampleRequest.Builder b = SampleRequest.builder(labels).sampler(sampler).steps(4).cfgScale(2.0).transport(tr).seed(9);
            Tensor whole = Sampling.generate(model, b.batchSize(5).build(), Sampling.Progress.NONE);
            Tensor pairs = Sampling.generate(model, b.batchSize(2).build(), Sampling.Progress.NONE);
            assertEquals(0.0, Tensors.maxAbsDiff(whole, pairs), sampler + ": images depend on the batch size");
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SampleRequest.builder(labels).sampler("ddim").transport(tr).build());
        assertTrue(e.getMessage().contains("flow-matching") && e.getMessage().contains("heun2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SampleRequest.builder(labels).sampler("dopri5").build());
        assertTrue(e.getMessage().contains("DDPM") && e.getMessage().contains("ddim"), e.getMessage());
    }
}
