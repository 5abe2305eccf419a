package io.udit.data;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class BatchLoaderTest {

    /** Sample i is [i, aug, i, i] with aug drawn from the rng; label i % 3. Optionally slow or failing. */
    static class IndexDataset implements Dataset {
        final int n;
        final long sleepMillis;
        final int failAt;

        IndexDataset(int n, long sleepMillis, int failAt) {
            this.n = n;
            this.sleepMillis = sleepMillis;
            this.failAt = failAt;
        }

        @Override public int size() { return n; }
        @Override public int numClasses() { return 3; }
        @Override public int channels() { return 1; }
        @Override public int resolution() { return 2; }
        @Override public List<String> classNames() { return List.of("a", "b", "c"); }
        @Override public String describe() { return "index dataset"; }

        @Override
        public int read(int index, float[] dst, SplittableRandom rng) {
            if (sleepMillis > 0) {
                try {
                    Thread.sleep(sleepMillis);
                } catch (InterruptedException e) {
                    throw new DataException("interrupted");
                }
            }
            if (index == failAt) throw new DataException("/data/bad/file_" + index + ".png: corrupt image");
            dst[0] = index;
            dst[1] = rng.nextInt(1000);
            dst[2] = index;
            dst[3] = index;
            return index % 3;
        }
    }

    static List<BatchLoader.Batch> take(BatchLoader l, int k) {
        List<BatchLoader.Batch> out = new ArrayList<>();
        for (int i = 0; i < k; i++) out.add(l.next());
        return out;
    }

    @Test
    void permutationIsStableAndAPermutation() {
        // golden values: changing them breaks resuming runs started by older versions
        assertArrayEquals(new int[] {1, 5, 4, 6, 9, 0, 8, 2, 7, 3}, BatchLoader.permutation(0, 0, 10));
        int[] p = BatchLoader.permutation(5, 3, 1000);
        int[] sorted = p.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < 1000; i++) assertEquals(i, sorted[i]);
        assertFalse(Arrays.equals(p, BatchLoader.permutation(5, 4, 1000)), "epochs differ");
        assertFalse(Arrays.equals(p, BatchLoader.permutation(6, 3, 1000)), "seeds differ");
    }

    @Test
    void orderIsTheConcatenationOfEpochPermutations() {
        int n = 20, b = 7;
        long seed = 42;
        try (BatchLoader l = BatchLoader.builder(new IndexDataset(n, 0, -1), b).seed(seed).workers(2).build()) {
            List<BatchLoader.Batch> batches = take(l, 10); // 70 positions: 3.5 epochs, batches straddle epochs
            for (int k = 0; k < 10; k++) {
                BatchLoader.Batch bt = batches.get(k);
                assertEquals((long) k * b, bt.firstSample());
                assertEquals(b, bt.size());
                for (int i = 0; i < b; i++) {
                    long pos = (long) k * b + i;
                    int expect = BatchLoader.permutation(seed, pos / n, n)[(int) (pos % n)];
                    assertEquals(expect, (int) bt.x()[i * 4], "position " + pos);
                    assertEquals(expect % 3, bt.y()[i]);
                    assertEquals(BatchLoader.sampleRng(seed, pos / n, pos).nextInt(1000), (int) bt.x()[i * 4 + 1]);
                }
            }
            assertEquals(70, l.position());
        }
        // no shuffle: dataset order, epoch after epoch
        try (BatchLoader l = BatchLoader.builder(new IndexDataset(n, 0, -1), b).shuffle(false).workers(1).build()) {
            List<BatchLoader.Batch> batches = take(l, 4);
            for (int k = 0; k < 4; k++)
                for (int i = 0; i < b; i++) assertEquals((k * b + i) % n, (int) batches.get(k).x()[i * 4]);
        }
    }

    @Test
    void resumeGivesTheSameBatches() {
        IndexDataset ds = new IndexDataset(23, 0, -1);
        List<BatchLoader.Batch> full;
        try (BatchLoader l = BatchLoader.builder(ds, 5).seed(9).workers(2).build()) {
            full = take(l, 12);
        }
        try (BatchLoader l = BatchLoader.builder(ds, 5).seed(9).workers(2).startPosition(7 * 5).build()) {
            List<BatchLoader.Batch> rest = take(l, 5);
            for (int k = 0; k < 5; k++) {
                assertArrayEquals(full.get(7 + k).x(), rest.get(k).x(), "batch " + (7 + k));
                assertArrayEquals(full.get(7 + k).y(), rest.get(k).y());
                assertEquals(full.get(7 + k).firstSample(), rest.get(k).firstSample());
            }
        }
        assertThrows(IllegalArgumentException.class, () -> BatchLoader.builder(ds, 5).startPosition(7).build());
    }

    @Test
    void shardsTogetherEqualTheSingleProcessOrder() {
        IndexDataset ds = new IndexDataset(31, 0, -1);
        int b = 3, w = 2;
        List<BatchLoader.Batch> single, r0, r1;
        try (BatchLoader l = BatchLoader.builder(ds, b * w).seed(1).build()) {
            single = take(l, 15);
        }
        try (BatchLoader l0 = BatchLoader.builder(ds, b).seed(1).shard(0, w).build();
                BatchLoader l1 = BatchLoader.builder(ds, b).seed(1).shard(1, w).build()) {
            r0 = take(l0, 15);
            r1 = take(l1, 15);
        }
        for (int g = 0; g < 15; g++) {
            float[] joined = new float[b * w * 4];
            System.arraycopy(r0.get(g).x(), 0, joined, 0, b * 4);
            System.arraycopy(r1.get(g).x(), 0, joined, b * 4, b * 4);
            assertArrayEquals(single.get(g).x(), joined, "global batch " + g);
            assertEquals(single.get(g).firstSample(), r0.get(g).firstSample());
            assertEquals(single.get(g).firstSample() + b, r1.get(g).firstSample());
        }
        // resume of a sharded run
        try (BatchLoader l1 = BatchLoader.builder(ds, b).seed(1).shard(1, w).startPosition(4L * b * w).build()) {
            assertArrayEquals(r1.get(4).x(), l1.next().x());
        }
    }

    @Test
    void workerFailureSurfacesAtItsBatch() {
        try (BatchLoader l = BatchLoader.builder(new IndexDataset(40, 0, 13), 4).shuffle(false).workers(2).build()) {
            for (int k = 0; k < 3; k++) assertEquals(4L * k, l.next().firstSample()); // positions 0..11 are fine
            DataException e = assertThrows(DataException.class, l::next);
            assertTrue(e.getMessage().contains("batch 3") && e.getMessage().contains("file_13.png"), e.getMessage());
            Throwable root = e;
            while (root.getCause() != null) root = root.getCause();
            assertTrue(root.getMessage().contains("corrupt image"));
            assertThrows(DataException.class, l::next); // stays failed
        }
    }

    @Test
    void badLabelsAreErrors() {
        Dataset bad = new IndexDataset(10, 0, -1) {
            @Override public int numClasses() { return 2; }
        };
        try (BatchLoader l = BatchLoader.builder(bad, 5).shuffle(false).workers(1).build()) {
            DataException e = assertThrows(DataException.class, l::next);
            assertTrue(e.getMessage().contains("label 2"), e.getMessage());
        }
    }

    @Test
    void closeStopsWorkersPromptlyAndUnblocksTheConsumer() throws Exception {
        BatchLoader slow = BatchLoader.builder(new IndexDataset(1000, 200, -1), 50).workers(2).build();
        AtomicReference<Throwable> got = new AtomicReference<>();
        CountDownLatch started = new CountDownLatch(1);
        Thread consumer = new Thread(() -> {
            started.countDown();
            try {
                slow.next(); // 50 samples x 200 ms: far longer than the test waits
            } catch (Throwable t) {
                got.set(t);
            }
        });
        consumer.start();
        started.await();
        Thread.sleep(100);
        long t0 = System.nanoTime();
        slow.close();
        consumer.join(5000);
        assertTrue((System.nanoTime() - t0) / 1e9 < 2, "close took too long");
        assertTrue(slow.terminated(), "worker threads ended");
        assertFalse(consumer.isAlive());
        assertTrue(got.get() instanceof IllegalStateException, String.valueOf(got.get()));
        assertTrue(slow.waitedNanos() > 50_000_000L, "waited " + slow.waitedNanos());
        slow.close(); // idempotent
    }

    @Test
    void workersIdleWithoutSpinningWhenTheQueueIsFull() throws Exception {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        try (BatchLoader l = BatchLoader.builder(new IndexDataset(100, 0, -1), 10).workers(2).prefetch(3).build()) {
            l.next();
            Thread.sleep(200); // the ring fills up
            long before = loaderCpu(mx);
            Thread.sleep(500);
            long used = loaderCpu(mx) - before;
            assertTrue(used < 50_000_000L, "idle workers used " + used / 1e6 + " ms CPU in 500 ms");
            long w0 = l.waitedNanos();
            for (int i = 0; i < 3; i++) l.next(); // ready: no waiting
            assertTrue(l.waitedNanos() - w0 < 20_000_000L);
        }
    }

    private static long loaderCpu(ThreadMXBean mx) {
        long sum = 0;
        for (Thread t : Thread.getAllStackTraces().keySet())
            if (t.getName().startsWith("udit-loader-")) sum += Math.max(0, mx.getThreadCpuTime(t.getId()));
        return sum;
    }

    /** Prints throughput numbers (no assertion beyond sanity). */
    @Test
    void throughput() {
        SyntheticShapes ds = new SyntheticShapes(0, 32, 50_000, 10);
        float[] x = new float[ds.sampleSize()];
        for (int i = 0; i < 500; i++) ds.read(i, x, null); // warm up
        int count = 4000;
        long t0 = System.nanoTime();
        for (int i = 0; i < count; i++) ds.read(i, x, null);
        double single = count / ((System.nanoTime() - t0) / 1e9);
        int batches = 200, b = 64;
        double loaded;
        long waited;
        try (BatchLoader l = BatchLoader.builder(ds, b).workers(2).seed(3).build()) {
            l.next();
            long t1 = System.nanoTime();
            for (int i = 0; i < batches; i++) l.next();
            loaded = batches * b / ((System.nanoTime() - t1) / 1e9);
            waited = l.waitedNanos();
        }
        System.out.printf("SyntheticShapes 32x32: %.0f samples/s on one thread; BatchLoader (2 workers, batch %d):"
                + " %.0f samples/s, consumer waited %.0f ms%n", single, b, loaded, waited / 1e6);
        assertTrue(single > 100 && loaded > 100);
    }
}
