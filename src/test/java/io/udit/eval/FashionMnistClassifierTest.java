package io.udit.eval;

import io.udit.engine.Engine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The default classifier settings on Fashion-MNIST (Debian's dataset-fashion-mnist): >= 88% test accuracy. */
class FashionMnistClassifierTest {
    @TempDir
    Path cache;

    @Test
    void defaultSettingsReachTheAccuracyBar() {
        assumeTrue(FashionIdx.available(), "Debian package dataset-fashion-mnist is not installed");
        Engine.init();
        FashionIdx train = new FashionIdx(true);
        FashionIdx test = new FashionIdx(false);
        long t0 = System.nanoTime();
        ClassifierMetrics m = ClassifierMetrics.trainOrLoad(train, test, ClassifierMetrics.Config.defaults().withCacheDir(cache),
                System.out::println);
        double wall = (System.nanoTime() - t0) / 1e9;
        System.out.printf("Fashion-MNIST classifier: training %.1f s, total %.1f s, accuracy %.4f on %d test images (%s)%n",
                m.trainSeconds(), wall, m.heldOutAccuracy(), m.heldOutCount(), Engine.threadSettings());
        assertFalse(m.fromCache());
        assertTrue(m.heldOutAccuracy() >= 0.88, "accuracy " + m.heldOutAccuracy());
    }
}
