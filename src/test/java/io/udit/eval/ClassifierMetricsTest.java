package io.udit.eval;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The small classifier on an in-test dataset: accuracy bar, cache hits, corrupt caches, fidelity of real vs noise. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClassifierMetricsTest {
    @TempDir
    static Path cache;

    static final BarsAndBlobs TRAIN = new BarsAndBlobs(6000, 3, 16, 1);
    static final BarsAndBlobs HELD = new BarsAndBlobs(1000, 3, 16, 2);
    static ClassifierMetrics first;

    static ClassifierMetrics.Config config() {
        return ClassifierMetrics.Config.defaults().withEpochs(3).withHeldOutSamples(1000).withCacheDir(cache);
    }

    @BeforeAll
    static void trainOnce() {
        Engine.init();
        long t0 = System.nanoTime();
        first = ClassifierMetrics.trainOrLoad(TRAIN, HELD, config(), System.out::println);
        System.out.printf("BarsAndBlobs classifier: %.1f s wall (training %.1f s), held-out accuracy %.4f%n",
                (System.nanoTime() - t0) / 1e9, first.trainSeconds(), first.heldOutAccuracy());
    }

    @Test
    @Order(1)
    void trainsToTheAccuracyBarAndWritesTheCache() throws Exception {
        assertFalse(first.fromCache());
        assertTrue(first.heldOutAccuracy() >= 0.95, "held-out accuracy " + first.heldOutAccuracy());
        assertEquals(1000, first.heldOutCount());
        assertTrue(Files.isRegularFile(first.weightsFile()));
        Path json = cache.resolve(first.cacheKey() + ".json");
        assertTrue(Files.readString(json).contains("\"held_out_accuracy\""));
    }

    @Test
    @Order(2)
    void secondCallIsACacheHitWithTheSameResults() {
        List<String> log = new ArrayList<>();
        ClassifierMetrics again = ClassifierMetrics.trainOrLoad(TRAIN, HELD, config(), log::add);
        assertTrue(again.fromCache(), log.toString());
        assertEquals(first.cacheKey(), again.cacheKey());
        assertEquals(first.heldOutAccuracy(), again.heldOutAccuracy(), 1e-12);
        assertEquals(first.trainSeconds(), again.trainSeconds(), 1e-9);
        // another setting or another dataset is another key
        assertFalse(first.cacheKey().equals(ClassifierMetrics.cacheKey(TRAIN, HELD, config().withSeed(5))));
        assertFalse(first.cacheKey().equals(ClassifierMetrics.cacheKey(TRAIN, HELD, config().withTrainNoise(0.05))));
        assertFalse(first.cacheKey().equals(ClassifierMetrics.cacheKey(new BarsAndBlobs(6000, 3, 16, 9), HELD, config())));
    }

    @Test
    @Order(3)
    void realImagesScoreTheAccuracyAndNoiseScoresLow() {
        // the held-out set itself: fidelity is the accuracy, the Frechet distance to itself is 0
        LabelledImages held = LabelledImages.read(HELD, 0, 1000);
        ClassifierMetrics.Report self = first.evaluate(held.images(), held.labels());
        assertEquals(first.heldOutAccuracy(), self.fidelity(), 1e-12);
        assertEquals(0.0, self.frechetDistance(), 1e-6);
        // fresh real images: fidelity close to the accuracy, small distance
        LabelledImages fresh = LabelledImages.read(new BarsAndBlobs(1000, 3, 16, 3), 0, 1000);
        ClassifierMetrics.Report real = first.evaluate(fresh.images(), fresh.labels());
        assertEquals(first.heldOutAccuracy(), real.fidelity(), 0.03);
        // uniform noise requested with balanced labels: fidelity near chance, far larger distance
        Generator g = torch.make_generator_cpu(11);
        Tensor noise = Tensors.empty(ScalarType.Float, 1000, 3, 16, 16).uniform_(-1.0, 1.0, new GeneratorOptional(g));
        long[] labels = new long[1000];
        for (int i = 0; i < labels.length; i++) labels[i] = i % 4;
        ClassifierMetrics.Report bad = first.evaluate(noise, Tensors.longs(labels, 1000));
        System.out.printf("fidelity: held-out %.4f, fresh real %.4f, noise %.4f; classifier FD: fresh real %.4f, noise %.4f%n",
                self.fidelity(), real.fidelity(), bad.fidelity(), real.frechetDistance(), bad.frechetDistance());
        assertTrue(bad.fidelity() < 0.4, "noise fidelity " + bad.fidelity());
        assertTrue(bad.frechetDistance() > 20 * real.frechetDistance(), bad.frechetDistance() + " vs " + real.frechetDistance());
        assertEquals(first.heldOutAccuracy(), bad.heldOutAccuracy());
        assertEquals(250, bad.perClassCount()[2]);
    }

    @Test
    @Order(4)
    void badSampleInputsAreClearErrors() {
        LabelledImages held = LabelledImages.read(HELD, 0, 8);
        Tensor wrongShape = Tensors.zeros(ScalarType.Float, 8, 1, 16, 16);
        assertTrue(assertThrows(EvalException.class, () -> first.evaluate(wrongShape, held.labels())).getMessage().contains("N x 3 x 16 x 16"));
        Tensor pixels = held.images().add(Tensors.scalar(1.0)).mul(Tensors.scalar(127.5));
        assertTrue(assertThrows(EvalException.class, () -> first.evaluate(pixels, held.labels())).getMessage().contains("[-1, 1]"));
        Tensor badLabels = Tensors.longs(new long[] {0, 1, 2, 3, 4, 0, 1, 2}, 8);
        assertTrue(assertThrows(EvalException.class, () -> first.evaluate(held.images(), badLabels)).getMessage().contains("outside 0..3"));
        assertThrows(EvalException.class, () -> first.evaluate(held.images(), Tensors.longs(new long[] {0, 1}, 2)));
        assertThrows(EvalException.class, () -> first.evaluate(held.images().narrow(0, 0, 1), held.labels().narrow(0, 0, 1)));
    }

    @Test
    @Order(5)
    void corruptCacheIsRetrainedNotTrusted() throws Exception {
        Path weights = first.weightsFile();
        Path json = cache.resolve(first.cacheKey() + ".json");
        ClassifierMetrics.Config small = config().withEpochs(1).withMaxTrainSamples(1500);
        // a separate cache entry with cheaper settings, then corrupt it three ways
        ClassifierMetrics base = ClassifierMetrics.trainOrLoad(TRAIN, HELD, small, null);
        assertFalse(base.fromCache());
        Path w = base.weightsFile();
        Path j = cache.resolve(base.cacheKey() + ".json");

        byte[] bytes = Files.readAllBytes(w);
        bytes[bytes.length - 3] ^= 0x55; // flips weight bits: checksum mismatch
        Files.write(w, bytes);
        List<String> log = new ArrayList<>();
        ClassifierMetrics r1 = ClassifierMetrics.trainOrLoad(TRAIN, HELD, small, log::add);
        assertFalse(r1.fromCache());
        assertTrue(log.stream().anyMatch(s -> s.contains("unusable") && s.contains("checksum")), log.toString());
        assertTrue(ClassifierMetrics.trainOrLoad(TRAIN, HELD, small, null).fromCache(), "rewritten entry is used again");

        Files.writeString(j, "{\"format\": \"udit-classifier-v1\", \"key\": ");
        log.clear();
        assertFalse(ClassifierMetrics.trainOrLoad(TRAIN, HELD, small, log::add).fromCache());
        assertTrue(log.stream().anyMatch(s -> s.contains("unusable")), log.toString());

        Files.write(w, new byte[] {1, 2, 3});
        assertFalse(ClassifierMetrics.trainOrLoad(TRAIN, HELD, small, null).fromCache());
        Files.delete(j);
        assertFalse(ClassifierMetrics.trainOrLoad(TRAIN, HELD, small, null).fromCache());

        // the first entry was never touched
        assertTrue(Files.isRegularFile(weights) && Files.isRegularFile(json));
        assertTrue(ClassifierMetrics.trainOrLoad(TRAIN, HELD, config(), null).fromCache());
    }
}
