package io.udit.eval;

import io.udit.data.FashionMnist;
import io.udit.data.SyntheticShapes;
import io.udit.engine.Engine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The default classifier settings on the project's datasets: >= 95% on SyntheticShapes, >= 88% on Fashion-MNIST. */
class DatasetClassifierTest {
    @TempDir
    Path cache;

    @Test
    void syntheticShapesReachTheAccuracyBar() {
        Engine.init();
        SyntheticShapes train = new SyntheticShapes(0, 32, 50_000, 10);
        SyntheticShapes test = new SyntheticShapes(1, 32, 2_000, 10);
        long t0 = System.nanoTime();
        ClassifierMetrics m = ClassifierMetrics.trainOrLoad(train, test, ClassifierMetrics.Config.defaults().withCacheDir(cache),
                System.out::println);
        System.out.printf("SyntheticShapes classifier: training %.1f s, total %.1f s, accuracy %.4f on %d held-out images (%s)%n",
                m.trainSeconds(), (System.nanoTime() - t0) / 1e9, m.heldOutAccuracy(), m.heldOutCount(), Engine.threadSettings());
        assertFalse(m.fromCache());
        assertTrue(m.heldOutAccuracy() >= 0.95, "accuracy " + m.heldOutAccuracy());
    }

    @Test
    void fashionMnistReachesTheAccuracyBar() {
        assumeTrue(Files.isDirectory(Path.of(FashionMnist.DEFAULT_DIR)), "Debian package dataset-fashion-mnist is not installed");
        Engine.init();
        FashionMnist train = new FashionMnist(Path.of(FashionMnist.DEFAULT_DIR), true);
        FashionMnist test = new FashionMnist(Path.of(FashionMnist.DEFAULT_DIR), false);
        long t0 = System.nanoTime();
        ClassifierMetrics m = ClassifierMetrics.trainOrLoad(train, test, ClassifierMetrics.Config.defaults().withCacheDir(cache),
                System.out::println);
        System.out.printf("Fashion-MNIST classifier: training %.1f s, total %.1f s, accuracy %.4f on %d test images (%s)%n",
                m.trainSeconds(), (System.nanoTime() - t0) / 1e9, m.heldOutAccuracy(), m.heldOutCount(), Engine.threadSettings());
        assertFalse(m.fromCache());
        assertTrue(m.heldOutAccuracy() >= 0.88, "accuracy " + m.heldOutAccuracy());
    }
}
