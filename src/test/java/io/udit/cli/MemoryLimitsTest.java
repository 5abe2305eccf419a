package io.udit.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The launcher sizes the JVM from the machine, and running out of memory anyway is one line with exit code 2. */
class MemoryLimitsTest {
    @TempDir
    Path tmp;

    static String run(Path log, List<String> cmd, java.util.Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "child did not finish");
        return p.exitValue() + "\n" + Files.readString(log);
    }

    @Test
    void theLauncherSizesHeapAndNativeLimitFromPhysicalMemory() throws Exception {
        long memKib = 0;
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("MemTotal:")) memKib = Long.parseLong(line.replaceAll("\\D", ""));
        }
        String out = run(tmp.resolve("echo.log"), List.of("bash", "udit", "info"), java.util.Map.of("UDIT_LAUNCH_ECHO", "1"));
        Matcher cap = Pattern.compile("maxPhysicalBytes=(\\d+)m").matcher(out), heap = Pattern.compile("-Xmx(\\d+)m").matcher(out);
        assertTrue(cap.find() && heap.find(), out);
        long capMib = Long.parseLong(cap.group(1)), heapMib = Long.parseLong(heap.group(1));
        System.out.printf("MemTotal %d MiB: heap %d MiB, native cap %d MiB%n", memKib >> 10, heapMib, capMib);
        assertTrue(capMib >= (memKib >> 10) * 8 / 10 || capMib < 2048, "cap follows the machine: " + out); // cgroup limits may lower it
        assertTrue(heapMib >= 1024 && heapMib <= 8192, out);
        assertTrue(out.contains(" -Xmn24m "), "a small young generation (the Java heap holds handles only): " + out);
        out = run(tmp.resolve("echo2.log"), List.of("bash", "udit", "info"), java.util.Map.of("UDIT_LAUNCH_ECHO", "1", "UDIT_MAX_MEMORY", "5g"));
        assertTrue(out.contains("maxPhysicalBytes=5120m"), out);
        // glibc keeps freed memory for the next step (one arena, fixed mmap threshold, no trimming), unless the user says otherwise
        assertTrue(out.contains("GLIBC_TUNABLES=glibc.malloc.arena_max=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold="), out);
        out = run(tmp.resolve("echo3.log"), List.of("bash", "udit", "info"), java.util.Map.of("UDIT_LAUNCH_ECHO", "1", "GLIBC_TUNABLES", "glibc.malloc.arena_max=4"));
        assertTrue(out.contains("GLIBC_TUNABLES=glibc.malloc.arena_max=4 java"), out);
        out = run(tmp.resolve("bad.log"), List.of("bash", "udit", "info"), java.util.Map.of("UDIT_MAX_MEMORY", "lots"));
        assertTrue(out.startsWith("2\n") && out.contains("UDIT_MAX_MEMORY"), out);
    }

    @Test
    void runningOutOfMemoryIsOneLineNamingTheLimitAndTheRemedy() throws Exception {
        String javaBin = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(javaBin, "-Dorg.bytedeco.javacpp.maxPhysicalBytes=600m", "-Dorg.bytedeco.javacpp.maxBytes=600m",
                "-cp", System.getProperty("java.class.path"), "io.udit.cli.Main", "train", "--data", "synthetic", "--steps", "2",
                "--run-dir", tmp.resolve("run").toString()));
        String out = run(tmp.resolve("oom.log"), cmd, java.util.Map.of("OMP_NUM_THREADS", "1"));
        assertTrue(out.startsWith("2\n"), out);
        String last = out.strip().lines().reduce((a, b) -> b).orElse("");
        assertTrue(last.contains("out of memory") && last.contains("600m") && last.contains("--batch") && last.contains("UDIT_MAX_MEMORY"), out);
        assertFalse(out.contains("\tat "), "no stack trace:\n" + out);
        assertEquals(1, out.lines().filter(l -> l.contains("out of memory")).count(), out);
    }
}
