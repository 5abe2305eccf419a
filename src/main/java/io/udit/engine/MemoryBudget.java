package io.udit.engine;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one memory budget for everything built on behalf of an input (tensors read from files, models built from
 * configs): half of the memory this process may use, which is the smaller of physical memory and the cgroup limit.
 * The system property {@code udit.maxMemoryBytes} (or the older {@code udit.io.maxTensorBytes}) sets it explicitly.
 */
public final class MemoryBudget {
    private MemoryBudget() {}

    /** The share of the process's usable memory given to tensors and models. */
    public static final double SHARE = 0.5;

    /** How the budget is set, for messages. */
    public static final String DESCRIPTION = "half of the memory this process may use; -Dudit.maxMemoryBytes=N sets it";

    private static final class Holder {
        static final long BYTES = compute();
    }

    public static long bytes() {
        return Holder.BYTES;
    }

    /** Bytes the process may use: physical memory, capped by a cgroup (v2 or v1) limit. */
    public static long usableMemory() {
        long total = Long.MAX_VALUE;
        try {
            if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean sun
                    && sun.getTotalMemorySize() > 0) {
                total = sun.getTotalMemorySize();
            }
        } catch (RuntimeException | LinkageError ignored) {
            // unknown platform: only a cgroup limit can bound it
        }
        total = Math.min(total, cgroupLimit("/sys/fs/cgroup/memory.max"));
        return Math.min(total, cgroupLimit("/sys/fs/cgroup/memory/memory.limit_in_bytes"));
    }

    private static long compute() {
        for (String prop : new String[] {"udit.maxMemoryBytes", "udit.io.maxTensorBytes"}) {
            String v = System.getProperty(prop);
            if (v != null) {
                try {
                    long n = Long.parseLong(v.trim());
                    if (n > 0) return n;
                } catch (NumberFormatException ignored) {
                    // a malformed setting falls back to the computed share
                }
            }
        }
        long usable = usableMemory();
        return usable == Long.MAX_VALUE ? Long.MAX_VALUE : (long) (usable * SHARE);
    }

    private static long cgroupLimit(String file) {
        try {
            String s = Files.readString(Path.of(file)).trim();
            return s.equals("max") ? Long.MAX_VALUE : Math.max(1, Long.parseLong(s));
        } catch (Exception e) {
            return Long.MAX_VALUE;
        }
    }

    /** Binary-prefixed rendering for messages: "1.5 GiB". */
    public static String human(long bytes) {
        if (bytes == Long.MAX_VALUE) return "unbounded";
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " B" : String.format("%.1f %s", v, units[u]);
    }
}
