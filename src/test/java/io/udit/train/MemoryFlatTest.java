package io.udit.train;

import io.udit.engine.Engine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Native memory stays flat over a long run: every step's tensors live in a PointerScope. */
class MemoryFlatTest {
    @TempDir
    Path tmp;

    @Test
    void rssDoesNotGrowWithSteps() throws Exception {
        Engine.init();
        long[] rss = new long[401];
        RunConfig c = TrainerTest.builder(400, 100).batch(2, 2).logEvery(100).keepCheckpoints(1).sampleEvery(100).previewSteps(3)
                .warmupSteps(0).build();
        new Trainer(c, TrainerTest.microData(), tmp, RunFolder.Start.NEW, s -> {
            rss[(int) s.step()] = s.rssBytes();
            if (s.step() % 50 == 0) {
                System.out.printf("step %d rss %.1f heap committed %.1f used %.1f javacpp bytes %.1f count %d%n", s.step(), s.rssBytes() / 1e6,
                        Runtime.getRuntime().totalMemory() / 1e6, (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) / 1e6,
                        org.bytedeco.javacpp.Pointer.totalBytes() / 1e6, org.bytedeco.javacpp.Pointer.totalCount());
            }
        }).run();
        System.gc();
        // step 150 comes after the first checkpoint and preview (which size the buffers they reuse later)
        // Rss answers -1 when /proc is unreadable (and 0 marks a step that was never reported): fail, do not pass vacuously
        for (int step = 1; step <= 400; step++) assertTrue(rss[step] > 0, "no RSS at step " + step + " (" + rss[step] + ")");
        double early = rss[150] / 1e6, late = rss[400] / 1e6;
        System.out.printf("RSS at step 150: %.1f MB, at step 400: %.1f MB%n", early, late);
        assertTrue(late <= early * 1.02 + 8, "RSS grew from " + early + " MB to " + late + " MB");
    }
}
