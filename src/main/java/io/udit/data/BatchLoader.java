package io.udit.data;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Background loading of batches, ahead of the consumer, deterministic and resumable.
 *
 * <p><b>Order.</b> The stream of samples is the concatenation of one permutation of the dataset per epoch, epoch
 * {@code e} using {@link #permutation(long, long, int) permutation(seed, e, n)} (or the identity without shuffle):
 * global position {@code p} holds sample {@code perm(p / n)[p % n]}. Batches run across epoch boundaries (no
 * sample is dropped). Global batch {@code g} covers positions {@code [g*B*W, (g+1)*B*W)} for batch size {@code B}
 * per rank and world size {@code W}; rank {@code r} takes {@code [g*B*W + r*B, g*B*W + r*B + B)}, so the ranks
 * together see exactly the single-process order. A loader started at position {@code p} (a multiple of
 * {@code B*W}) continues exactly as an uninterrupted run would at that point. Augmentation randomness of a sample
 * comes from {@link #sampleRng(long, long, long) sampleRng(seed, epoch, p)}, so results do not depend on thread
 * scheduling.
 *
 * <p><b>Threads.</b> {@code workers} daemon threads build whole batches into a ring of {@code prefetch} slots and
 * block (no busy waiting) when it is full; {@link #next()} blocks only if the next batch is not ready yet, and
 * {@link #waitedNanos()} adds up that time. A failure in a worker (bad file, ...) is delivered by {@code next()} at
 * the batch where it happened, as a {@link DataException} with the cause; batches before it are delivered normally.
 * {@link #close()} stops the workers promptly (interrupting them) and waits for them.
 */
public final class BatchLoader implements AutoCloseable {
    /**
     * One rank's batch: {@code x} holds {@code y.length} samples of {@code channels * res * res} floats (NCHW), {@code
     * y} their labels, {@code firstSample} the global position of the first one.
     */
    public record Batch(float[] x, long[] y, long firstSample) {
        public int size() {
            return y.length;
        }
    }

    private static final long PERM_TAG = 0x5045524DL, AUG_TAG = 0x41554721L;

    private final Dataset dataset;
    private final int batchSize;
    private final long seed;
    private final boolean shuffle;
    private final int rank;
    private final int worldSize;
    private final long startBatch; // global batch index of the first batch
    private final int prefetch;
    private final int n;
    private final int sampleSize;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition spaceFree = lock.newCondition();
    private final Condition batchReady = lock.newCondition();
    private final Batch[] ring;
    private long claimed; // next batch (relative to startBatch) a worker will build
    private long consumed; // next batch next() returns
    private Throwable failure;
    private long failedAt = Long.MAX_VALUE;
    private boolean closed;
    private volatile long waitedNanos;
    private final Thread[] threads;
    private final Map<Long, int[]> perms = new LinkedHashMap<>(8, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, int[]> e) {
            return size() > 3;
        }
    };

    /** Default worker count: one less than the cores, but at least 2 (on a 2-core machine: 2). */
    public static int defaultWorkers() {
        return Math.max(2, Runtime.getRuntime().availableProcessors() - 1);
    }

    public static Builder builder(Dataset dataset, int batchSize) {
        return new Builder(dataset, batchSize);
    }

    /** Options; everything but the dataset and batch size has a default. */
    public static final class Builder {
        private final Dataset dataset;
        private final int batchSize;
        private long seed;
        private long startPosition;
        private int rank;
        private int worldSize = 1;
        private int workers = defaultWorkers();
        private int prefetch = -1;
        private boolean shuffle = true;

        private Builder(Dataset dataset, int batchSize) {
            this.dataset = dataset;
            this.batchSize = batchSize;
        }

        public Builder seed(long seed) { this.seed = seed; return this; }

        /** Global sample position to start at: a multiple of batchSize * worldSize (e.g. step * global batch). */
        public Builder startPosition(long position) { this.startPosition = position; return this; }

        /** Data-parallel sharding: this process is {@code rank} of {@code worldSize}. */
        public Builder shard(int rank, int worldSize) { this.rank = rank; this.worldSize = worldSize; return this; }

        public Builder workers(int workers) { this.workers = workers; return this; }

        /** Ready batches kept ahead of the consumer (default 2 per worker, at least 2). */
        public Builder prefetch(int batches) { this.prefetch = batches; return this; }

        /** False: every epoch in dataset order. */
        public Builder shuffle(boolean shuffle) { this.shuffle = shuffle; return this; }

        public BatchLoader build() {
            return new BatchLoader(this);
        }
    }

    private BatchLoader(Builder b) {
        if (b.dataset == null) throw new IllegalArgumentException("no dataset");
        if (b.batchSize < 1) throw new IllegalArgumentException("batch size must be positive, got " + b.batchSize);
        if (b.worldSize < 1 || b.rank < 0 || b.rank >= b.worldSize)
            throw new IllegalArgumentException("rank " + b.rank + " of world size " + b.worldSize);
        if (b.workers < 1) throw new IllegalArgumentException("workers must be positive, got " + b.workers);
        long global = (long) b.batchSize * b.worldSize;
        if (b.startPosition < 0 || b.startPosition % global != 0)
            throw new IllegalArgumentException("start position " + b.startPosition
                    + " is not a non-negative multiple of the global batch " + global);
        if (b.dataset.size() < 1) throw new DataException("dataset is empty: " + b.dataset.describe());
        long batchFloats = (long) b.batchSize * b.dataset.sampleSize();
        if (batchFloats > Integer.MAX_VALUE - 16)
            throw new IllegalArgumentException("a batch of " + b.batchSize + " samples of " + b.dataset.sampleSize()
                    + " floats does not fit in one array");
        this.dataset = b.dataset;
        this.batchSize = b.batchSize;
        this.seed = b.seed;
        this.shuffle = b.shuffle;
        this.rank = b.rank;
        this.worldSize = b.worldSize;
        this.startBatch = b.startPosition / global;
        this.prefetch = b.prefetch > 0 ? b.prefetch : Math.max(2, 2 * b.workers);
        this.n = dataset.size();
        this.sampleSize = dataset.sampleSize();
        this.ring = new Batch[prefetch];
        this.threads = new Thread[b.workers];
        for (int i = 0; i < threads.length; i++) {
            Thread t = new Thread(this::work, "udit-loader-" + i);
            t.setDaemon(true);
            threads[i] = t;
        }
        for (Thread t : threads) t.start();
    }

    /**
     * The permutation of {@code 0..n-1} used for epoch {@code epoch}: Fisher-Yates driven by a SplittableRandom
     * seeded from (seed, epoch).
     */
    public static int[] permutation(long seed, long epoch, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        SplittableRandom r = new SplittableRandom(Seeds.mix(seed, PERM_TAG, epoch));
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** The augmentation randomness of the sample at global position {@code position} (in epoch {@code epoch}). */
    public static SplittableRandom sampleRng(long seed, long epoch, long position) {
        return new SplittableRandom(Seeds.mix(seed ^ AUG_TAG, epoch, position));
    }

    private int[] perm(long epoch) {
        synchronized (perms) {
            return perms.computeIfAbsent(epoch, e -> permutation(seed, e, n));
        }
    }

    /** Dataset index of the sample at global position {@code position}. */
    public int sampleIndex(long position) {
        long epoch = position / n;
        int i = (int) (position % n);
        return shuffle ? perm(epoch)[i] : i;
    }

    public Dataset dataset() { return dataset; }
    public int batchSize() { return batchSize; }
    public int rank() { return rank; }
    public int worldSize() { return worldSize; }
    public long globalBatchSize() { return (long) batchSize * worldSize; }

    /** Global position where the next batch {@link #next()} returns starts (all ranks together): resume from it. */
    public long position() {
        lock.lock();
        try {
            return (startBatch + consumed) * globalBatchSize();
        } finally {
            lock.unlock();
        }
    }

    /** Nanoseconds {@link #next()} has spent waiting for batches that were not ready. */
    public long waitedNanos() {
        return waitedNanos;
    }

    private void work() {
        float[] scratch = new float[sampleSize];
        while (true) {
            long k;
            lock.lock();
            try {
                while (!closed && failure == null && claimed >= consumed + prefetch) spaceFree.await();
                if (closed || failure != null) return;
                k = claimed++;
            } catch (InterruptedException e) {
                return;
            } finally {
                lock.unlock();
            }
            Batch b;
            try {
                b = build(startBatch + k, scratch);
            } catch (Throwable t) {
                lock.lock();
                try {
                    if (!closed && k < failedAt) {
                        failedAt = k;
                        failure = t;
                    }
                    batchReady.signalAll();
                    spaceFree.signalAll();
                } finally {
                    lock.unlock();
                }
                return;
            }
            lock.lock();
            try {
                if (closed) return;
                ring[(int) (k % prefetch)] = b;
                batchReady.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    private Batch build(long globalBatch, float[] scratch) {
        long first = globalBatch * globalBatchSize() + (long) rank * batchSize;
        float[] x = new float[batchSize * sampleSize];
        long[] y = new long[batchSize];
        int classes = dataset.numClasses();
        for (int i = 0; i < batchSize; i++) {
            if (Thread.currentThread().isInterrupted()) throw new DataException("loader closed");
            long p = first + i;
            long epoch = p / n;
            int index = sampleIndex(p);
            int label;
            try {
                label = dataset.read(index, scratch, sampleRng(seed, epoch, p));
            } catch (DataException e) {
                throw new DataException("sample " + index + " (position " + p + ", epoch " + epoch + "): "
                        + e.getMessage(), e);
            } catch (RuntimeException | Error e) {
                throw new DataException("sample " + index + " (position " + p + ", epoch " + epoch + ") of "
                        + dataset.describe() + ": " + e, e);
            }
            if (label < 0 || label >= classes)
                throw new DataException("sample " + index + " of " + dataset.describe() + " has label " + label
                        + " outside 0.." + (classes - 1));
            System.arraycopy(scratch, 0, x, i * sampleSize, sampleSize);
            y[i] = label;
        }
        return new Batch(x, y, first);
    }

    /**
     * The next batch of this rank, waiting for it if it is not ready.
     *
     * @throws DataException if loading it (or a batch before it) failed, with the worker's exception as cause
     * @throws IllegalStateException after {@link #close()}
     */
    public Batch next() {
        lock.lock();
        try {
            if (closed) throw new IllegalStateException("batch loader is closed");
            int slot = (int) (consumed % prefetch);
            if (ring[slot] == null) {
                long t0 = System.nanoTime();
                try {
                    while (ring[slot] == null && failedAt != consumed && !closed) batchReady.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new DataException("interrupted while waiting for batch " + (startBatch + consumed), e);
                } finally {
                    waitedNanos += System.nanoTime() - t0;
                }
            }
            Batch b = ring[slot];
            if (b == null) {
                if (closed) throw new IllegalStateException("batch loader is closed");
                throw new DataException("loading batch " + (startBatch + consumed) + " failed: " + failure.getMessage(),
                        failure);
            }
            ring[slot] = null;
            consumed++;
            spaceFree.signalAll();
            return b;
        } finally {
            lock.unlock();
        }
    }

    /** Stops the workers (interrupting reads in progress) and waits up to 10 s for them to end. Idempotent. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) return;
            closed = true;
            java.util.Arrays.fill(ring, null);
            spaceFree.signalAll();
            batchReady.signalAll();
        } finally {
            lock.unlock();
        }
        for (Thread t : threads) t.interrupt();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        boolean interrupted = false;
        for (Thread t : threads) {
            long left = deadline - System.nanoTime();
            if (left <= 0) break;
            try {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    /** Whether all worker threads have ended (after {@link #close()}, or after a failure). */
    public boolean terminated() {
        for (Thread t : threads) if (t.isAlive()) return false;
        return true;
    }

    @Override
    public String toString() {
        return "BatchLoader(batch " + batchSize + " x world " + worldSize + ", rank " + rank + ", " + threads.length
                + " workers, prefetch " + prefetch + ", seed " + seed + (shuffle ? "" : ", no shuffle") + ", "
                + dataset.describe() + ")";
    }
}
