package io.udit.engine;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Engine keeps OpenBLAS at one thread whatever OPENBLAS_NUM_THREADS says (two pools on the same cores cost 3x on the
 * U-DiT forward, docs/performance.md), and UDIT_BLAS_THREADS overrides it. Runs in child JVMs: the setting is made once
 * per process, at load.
 */
class EngineThreadsTest {
    /** Child entry point: prints the thread settings Engine applied. */
    public static void main(String[] args) {
        System.out.println(Engine.threadSettings());
    }

    @Test
    void openBlasIsSingleThreadedEvenWhenTheEnvironmentAsksForMore() throws Exception {
        String out = child(Map.of("OMP_NUM_THREADS", "2", "OPENBLAS_NUM_THREADS", "2"));
        assertTrue(out.contains("torch intra-op threads=2") && out.contains("OpenBLAS threads=1"), out);
    }

    @Test
    void uditBlasThreadsOverridesTheDefault() throws Exception {
        String out = child(Map.of("OMP_NUM_THREADS", "1", "OPENBLAS_NUM_THREADS", "1", "UDIT_BLAS_THREADS", "2"));
        assertTrue(out.contains("torch intra-op threads=1") && out.contains("OpenBLAS threads=2"), out);
    }

    private static String child(Map<String, String> env) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(List.of(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                "-Dorg.bytedeco.javacpp.cachedir=" + System.getProperty("org.bytedeco.javacpp.cachedir",
                        System.getProperty("user.home") + "/.javacpp/cache"),
                EngineThreadsTest.class.getName())).redirectErrorStream(true);
        pb.environment().remove("UDIT_THREADS");
        pb.environment().remove("UDIT_BLAS_THREADS");
        pb.environment().putAll(env);
        Process p = pb.start();
        byte[] bytes = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child did not finish");
        String out = new String(bytes, StandardCharsets.UTF_8);
        assertTrue(p.exitValue() == 0, out);
        return out;
    }
}
