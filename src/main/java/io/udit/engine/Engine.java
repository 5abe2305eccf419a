package io.udit.engine;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas;
import org.bytedeco.openblas.global.openblas_full;
import org.bytedeco.pytorch.global.torch;

/**
 * The one place libtorch is loaded. Every entry point and test calls {@link #init()} before touching a tensor.
 *
 * <p>Why extract first: on a cold cache JavaCPP dlopens libtorch.so before libtorch_cpu.so sits beside it, and
 * the dynamic linker may then pick a system libtorch (Debian's python3-torch ships one): SIGSEGV in System.load.
 */
public final class Engine {
    private Engine() {}

    /** Initialisation-on-demand holder: loads once per JVM, thread-safe, no mutable static state. */
    private static final class Loaded {
        static final int THREADS = load();
    }

    /** Loads libtorch (once) and applies the thread settings; returns the intra-op thread count in use. */
    public static int init() {
        return Loaded.THREADS;
    }

    private static int load() {
        try {
            String platform = Loader.getPlatform();
            Loader.cacheResources(openblas.class, "/org/bytedeco/openblas/" + platform + "/");
            // the GPU build (mvn -P gpu) ships its natives under <platform>-gpu
            String gpu = "/org/bytedeco/pytorch/" + platform + "-gpu/";
            boolean gpuBuild = torch.class.getResource(gpu) != null;
            if (gpuBuild) System.setProperty("org.bytedeco.javacpp.platform.extension", "-gpu");
            Loader.cacheResources(torch.class, gpuBuild ? gpu : "/org/bytedeco/pytorch/" + platform + "/");
            Loader.load(torch.class);
        } catch (Exception e) {
            throw new IllegalStateException("could not load libtorch: " + e.getMessage(), e);
        }
        int threads = threadsFromEnvironment();
        torch.set_num_threads(threads);
        // OpenBLAS (pthreads) keeps its own thread pool beside libtorch's OpenMP one: with both multi-threaded, the idle
        // pool spins while the other works, and libtorch's CPU attention calls OpenBLAS from inside OpenMP regions
        // (threads x threads on the cores; figures in docs/performance.md). The big matrix products go through oneDNN
        // (OpenMP) instead (Layers.linear), so OpenBLAS stays single-threaded.
        openblas_full.openblas_set_num_threads(blasThreads());
        if (System.getenv("OMP_NUM_THREADS") == null) {
            // OpenMP reads this once, at load: OMP_NUM_THREADS=1 followed by set_num_threads(2) runs parallel ops slowly
            System.err.println("udit: note: OMP_NUM_THREADS should be set to " + threads
                    + " before the JVM starts (the ./udit launcher does this); parallel ops may run slowly otherwise");
        }
        return threads;
    }

    /** OpenBLAS threads: UDIT_BLAS_THREADS, else 1 (see {@link #load()}). */
    static int blasThreads() {
        return positiveFromEnvironment(1, "UDIT_BLAS_THREADS");
    }

    /** Thread count: UDIT_THREADS, else OMP_NUM_THREADS, else all cores. */
    static int threadsFromEnvironment() {
        return positiveFromEnvironment(Runtime.getRuntime().availableProcessors(), "UDIT_THREADS", "OMP_NUM_THREADS");
    }

    /** The first of these variables that holds a positive integer, else the fallback. */
    private static int positiveFromEnvironment(int fallback, String... vars) {
        for (String var : vars) {
            String v = System.getenv(var);
            if (v != null && !v.isBlank()) {
                try {
                    int n = Integer.parseInt(v.trim());
                    if (n > 0) return n;
                } catch (NumberFormatException ignored) {
                    // fall through to the next source
                }
            }
        }
        return fallback;
    }

    /** The device networks run on: UDIT_DEVICE / -Dudit.device ("cpu" default, "cuda", "cuda:1" with a GPU build). */
    public static org.bytedeco.pytorch.Device device() {
        init();
        return DeviceHolder.DEVICE;
    }

    private static final class DeviceHolder {
        static final org.bytedeco.pytorch.Device DEVICE = parseDevice(
                System.getProperty("udit.device", System.getenv().getOrDefault("UDIT_DEVICE", "cpu")));
    }

    static org.bytedeco.pytorch.Device parseDevice(String name) {
        String n = name.trim().toLowerCase();
        if (n.equals("cpu")) return new org.bytedeco.pytorch.Device("cpu");
        if (!n.matches("cuda(:\\d+)?")) throw new IllegalArgumentException("device must be cpu or cuda[:N], got '" + name + "'");
        if (!torch.cuda_is_available()) {
            throw new IllegalArgumentException("device '" + name + "' needs CUDA: build with `mvn -P gpu package` (the"
                    + " linux-x86_64-gpu libtorch) and run on a machine with an NVIDIA GPU and driver");
        }
        return new org.bytedeco.pytorch.Device(n);
    }

    /** A description of the thread settings, for logs and benchmarks. */
    public static String threadSettings() {
        init();
        return "torch intra-op threads=" + torch.get_num_threads()
                + ", OpenBLAS threads=" + openblas_full.openblas_get_num_threads()
                + ", OMP_NUM_THREADS=" + System.getenv("OMP_NUM_THREADS");
    }
}
