package io.udit.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether other processes used the CPU while we measured: system busy time (/proc/stat) minus this process's own CPU
 * time (/proc/self/stat), over the same wall interval, as a share of all cores.
 */
public final class CpuUsage {
    private final long sysBusy0, self0, wall0;

    private CpuUsage(long sysBusy, long self, long wall) {
        this.sysBusy0 = sysBusy;
        this.self0 = self;
        this.wall0 = wall;
    }

    public static CpuUsage start() {
        return new CpuUsage(systemBusyTicks(), selfTicks(), System.nanoTime());
    }

    /** Share of total CPU capacity (0..1) used by other processes since start; NaN when /proc is unavailable. */
    public double otherShare() {
        long sys = systemBusyTicks() - sysBusy0, self = selfTicks() - self0;
        double wallSecs = (System.nanoTime() - wall0) / 1e9;
        if (sys < 0 || self < 0 || wallSecs <= 0) return Double.NaN;
        double ticksPerSec = 100.0; // USER_HZ on Linux
        double capacity = wallSecs * ticksPerSec * Runtime.getRuntime().availableProcessors();
        return Math.max(0, (sys - self) / capacity);
    }

    /** Share of total CPU capacity this process used since start. */
    public double selfShare() {
        long self = selfTicks() - self0;
        double wallSecs = (System.nanoTime() - wall0) / 1e9;
        return self / (wallSecs * 100.0 * Runtime.getRuntime().availableProcessors());
    }

    static long systemBusyTicks() {
        try {
            String cpu = Files.readAllLines(Path.of("/proc/stat")).get(0); // cpu user nice system idle iowait irq softirq steal
            String[] f = cpu.trim().split("\\s+");
            long busy = 0;
            for (int i = 1; i < f.length && i <= 8; i++) if (i != 4 && i != 5) busy += Long.parseLong(f[i]);
            return busy;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    static long selfTicks() {
        try {
            String s = Files.readString(Path.of("/proc/self/stat"));
            String[] f = s.substring(s.lastIndexOf(')') + 2).split("\\s+");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14, 15)
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
