package io.udit.dist;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two ranks as threads of this JVM: a collective works, close() frees the Gloo group at once (not whenever the GC
 * gets to it, in any order with its store), and the closed group refuses further collectives with a clear error.
 */
class ProcessGroupCloseTest {
    @Test
    void closeFreesTheGroupAndLaterCollectivesFailClearly() throws Exception {
        Engine.init();
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        CompletableFuture<ProcessGroup> r1 = CompletableFuture.supplyAsync(() -> ProcessGroup.join(
                new DistEnv(1, 2, 1, "127.0.0.1", port, 30_000)));
        ProcessGroup g0 = ProcessGroup.join(new DistEnv(0, 2, 0, "127.0.0.1", port, 30_000));
        ProcessGroup g1 = r1.get(60, TimeUnit.SECONDS);
        Tensor a = Tensors.floats(new float[] {1, 2}, 2), b = Tensors.floats(new float[] {10, 20}, 2);
        CompletableFuture<Void> sum1 = CompletableFuture.runAsync(() -> g1.allreduceSum(b));
        g0.allreduceSum(a);
        sum1.get(60, TimeUnit.SECONDS);
        assertArrayEquals(new float[] {11, 22}, Tensors.toFloats(a));
        assertArrayEquals(new float[] {11, 22}, Tensors.toFloats(b));

        assertFalse(g0.groupFreed());
        g1.close();
        g0.close();
        assertTrue(g0.groupFreed() && g1.groupFreed(), "close() frees the Gloo group");
        g0.close(); // idempotent
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> g0.allreduceSum(Tensors.zeros(ScalarType.Float, 1)));
        assertTrue(e.getMessage().contains("closed process group"), e.getMessage());
    }
}
