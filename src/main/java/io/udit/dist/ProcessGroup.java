package io.udit.dist;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.BroadcastOptions;
import org.bytedeco.pytorch.GlooDeviceVector;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * libtorch's c10d on CPU: a TCPStore rendezvous (rank 0 hosts it) and a Gloo process group. Adds what a training job
 * needs around it: a configuration check across ranks, heartbeats so a failed collective can name the rank that was
 * lost, and bucketed gradient averaging.
 */
public final class ProcessGroup implements AutoCloseable {
    /** A collective failed; the message names the ranks whose heartbeats stopped. */
    public static final class PeerLostException extends RuntimeException {
        public PeerLostException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The ranks were started with different configurations (exit code 2 on every rank). */
    public static final class ConfigMismatchException extends IllegalArgumentException {
        public ConfigMismatchException(String message) {
            super(message);
        }
    }

    private final DistEnv env;
    private final TCPStore store;
    private final ProcessGroupGloo gloo;
    private final ScheduledExecutorService heartbeat;
    private boolean closed; // guarded by this

    private ProcessGroup(DistEnv env, TCPStore store, ProcessGroupGloo gloo) {
        this.env = env;
        this.store = store;
        this.gloo = gloo;
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "udit-heartbeat");
            t.setDaemon(true);
            return t;
        });
        heartbeat.scheduleAtFixedRate(this::beat, 0, HEARTBEAT_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Joins the job: blocks until every rank has connected, or fails after the timeout naming what is missing. */
    public static ProcessGroup join(DistEnv env) {
        Engine.init();
        if (!env.isDistributed()) throw new IllegalArgumentException("a world of one needs no process group");
        TCPStoreOptions so = new TCPStoreOptions();
        so.port((short) env.masterPort()).isServer(env.rank() == 0).waitWorkers(true)
                .timeout(new Milliseconds(env.timeoutMillis()));
        so.numWorkers(new SizeTPointer(1).put(env.worldSize()));
        TCPStore store;
        try {
            store = new TCPStore(env.masterAddr(), so);
        } catch (RuntimeException e) {
            String first = firstLine(e);
            if (env.rank() == 0 && first.toLowerCase().contains("address already in use")) {
                throw new IllegalArgumentException("rank 0 cannot listen on " + env.masterAddr() + ":" + env.masterPort()
                        + ": the port is in use (pick another MASTER_PORT)", e);
            }
            throw new IllegalArgumentException("rank " + env.rank() + " could not reach the rendezvous at " + env.masterAddr() + ":"
                    + env.masterPort() + " within " + env.timeoutMillis() / 1000 + " s (is the master running, and are all "
                    + env.worldSize() + " ranks started?): " + first, e);
        }
        ProcessGroupGloo.Options go = ProcessGroupGloo.Options.create(new Milliseconds(env.timeoutMillis()));
        go.devices(new GlooDeviceVector(ProcessGroupGloo.createDeviceForHostname(
                env.masterAddr().equals("localhost") ? "127.0.0.1" : hostForDevice(env))));
        ProcessGroupGloo pg = new ProcessGroupGloo(store, env.rank(), env.worldSize(), go);
        return new ProcessGroup(env, store, pg);
    }

    private static String hostForDevice(DistEnv env) {
        // on one machine bind to the master's loopback address; across machines, to this host's name
        String addr = env.masterAddr();
        return addr.startsWith("127.") ? addr : System.getenv().getOrDefault("UDIT_DIST_HOST", hostname());
    }

    private static String hostname() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "127.0.0.1";
        }
    }

    public int rank() {
        return env.rank();
    }

    public int worldSize() {
        return env.worldSize();
    }

    /**
     * Every rank publishes a description of its job (model, data, batch, seed); all must agree, or every rank fails
     * with the same message naming the ranks that differ.
     */
    public void checkSameConfig(String description) {
        String hash = Integer.toHexString(description.hashCode()) + ":" + description.length();
        store.set("udit/config/" + env.rank(), hash);
        Map<Integer, String> all = new TreeMap<>();
        for (int r = 0; r < env.worldSize(); r++) {
            store._wait(new org.bytedeco.pytorch.StringVector("udit/config/" + r), new Milliseconds(env.timeoutMillis()));
            all.put(r, store.get_to_str("udit/config/" + r));
        }
        List<Integer> differ = new ArrayList<>();
        for (var e : all.entrySet()) if (!e.getValue().equals(all.get(0))) differ.add(e.getKey());
        if (!differ.isEmpty()) {
            throw new ConfigMismatchException("ranks " + differ + " run a different configuration than rank 0 (config hashes "
                    + all + "); every rank must get the same model, data, batch and seed");
        }
        barrier();
    }

    /** In-place sum across ranks. */
    public void allreduceSum(Tensor t) {
        run("allreduce", () -> gloo.allreduce(new TensorVector(t))._wait());
    }

    public void broadcast(Tensor t, int root) {
        BroadcastOptions o = new BroadcastOptions();
        o.rootRank(root);
        run("broadcast", () -> gloo.broadcast(new TensorVector(t), o)._wait());
    }

    public void barrier() {
        allreduceSum(Tensors.zeros(ScalarType.Float, 1));
    }

    /**
     * Averages gradients across ranks: flattened into buckets of at most {@code bucketBytes}, one allreduce per
     * bucket, divided by the world size, copied back.
     */
    public void averageGradients(List<Tensor> params, long bucketBytes) {
        List<Tensor> bucket = new ArrayList<>();
        long bytes = 0;
        for (Tensor p : params) {
            Tensor g = p.grad();
            if (!g.defined()) continue;
            bucket.add(g);
            bytes += g.nbytes();
            if (bytes >= bucketBytes) {
                reduceBucket(bucket);
                bucket.clear();
                bytes = 0;
            }
        }
        if (!bucket.isEmpty()) reduceBucket(bucket);
    }

    private void reduceBucket(List<Tensor> grads) {
        TensorVector flat = new TensorVector();
        for (Tensor g : grads) flat.push_back(g.reshape(-1));
        Tensor buffer = torch.cat(flat, 0);
        allreduceSum(buffer);
        buffer.div_(new org.bytedeco.pytorch.Scalar((double) env.worldSize()));
        long offset = 0;
        for (Tensor g : grads) {
            long n = g.numel();
            g.copy_(buffer.narrow(0, offset, n).view(Tensors.shape(g)));
            offset += n;
        }
    }

    private void run(String what, Runnable op) {
        synchronized (this) {
            if (closed) throw new IllegalStateException("rank " + env.rank() + ": " + what + " on a closed process group");
        }
        try {
            op.run();
        } catch (RuntimeException e) {
            throw new PeerLostException("rank " + env.rank() + ": " + what + " failed (" + firstLine(e) + "); " + lostRanks(), e);
        }
    }

    /**
     * Which ranks stopped beating, judged from the store (unreachable store = rank 0 is gone). A collective usually
     * fails at once when a peer's socket closes, before its heartbeat is stale, so give the heartbeats a few
     * periods to tell.
     */
    String lostRanks() {
        try {
            long until = System.currentTimeMillis() + 4 * HEARTBEAT_MILLIS + 500;
            List<Integer> lost = new ArrayList<>();
            while (true) {
                long now = System.currentTimeMillis();
                lost.clear();
                for (int r = 0; r < env.worldSize(); r++) {
                    if (r == env.rank()) continue;
                    String key = "udit/heartbeat/" + r;
                    long last = store.check(new org.bytedeco.pytorch.StringVector(key)) ? Long.parseLong(store.get_to_str(key)) : 0;
                    if (now - last > 3 * HEARTBEAT_MILLIS) lost.add(r);
                }
                if (!lost.isEmpty() || now > until) break;
                Thread.sleep(HEARTBEAT_MILLIS / 2);
            }
            return lost.isEmpty() ? "no rank missed its heartbeat"
                    : "lost rank" + (lost.size() > 1 ? "s " : " ") + lost.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(", "));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while checking heartbeats";
        } catch (RuntimeException e) {
            return env.rank() == 0 ? "the rendezvous store failed" : "lost rank 0 (it hosts the rendezvous store)";
        }
    }

    static final long HEARTBEAT_MILLIS = 500;

    private void beat() {
        try {
            store.set("udit/heartbeat/" + env.rank(), Long.toString(System.currentTimeMillis()));
        } catch (RuntimeException ignored) {
            // the store host is gone; the next collective reports it
        }
    }

    static String firstLine(Throwable e) {
        String m = e.getMessage();
        return m == null ? e.toString() : m.lines().findFirst().orElse(m);
    }

    /**
     * Stops the heartbeat, then frees the Gloo group now. Left to the GC, the group and the store it was built on are
     * freed in any order on JavaCPP's deallocator thread, and the group's destructor may then touch a store already
     * deleted (the Java wrapper owns the TCPStore outright, while the group holds an intrusive_ptr to the same object):
     * a heap corruption that surfaces later, anywhere. The store itself stays until the GC frees it: on rank 0 it is
     * the rendezvous server, which other ranks may still be reading (a rank that failed early must not take it down).
     */
    @Override
    public void close() {
        heartbeat.shutdownNow();
        try {
            if (!heartbeat.awaitTermination(10, TimeUnit.SECONDS)) return; // a beat stuck in the store: leave both alive
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        gloo.close();
    }

    /** Whether the native Gloo group has been freed (for tests). */
    boolean groupFreed() {
        return gloo.isNull();
    }
}
