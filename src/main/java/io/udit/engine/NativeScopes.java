package io.udit.engine;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.function.Supplier;

/**
 * Helpers for native lifetimes. JavaCPP attaches every new native object to the innermost PointerScope of the
 * creating thread, and libtorch marks tensors made under InferenceMode as inference-only; both are per thread.
 */
public final class NativeScopes {
    private NativeScopes() {}

    /**
     * Runs the supplier on a fresh thread that has no PointerScope and no grad-mode guards, so long-lived objects
     * (cached tables, buffers) survive the caller's scope and are usable in autograd later. Meant for rare, one-off
     * construction, not for hot paths.
     */
    public static <T> T outsideScopes(Supplier<T> supplier) {
        FutureTask<T> task = new FutureTask<>(supplier::get);
        Thread t = new Thread(task, "udit-native-alloc");
        t.setDaemon(true);
        t.start();
        try {
            return task.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while allocating native objects", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) throw re;
            if (cause instanceof Error err) throw err;
            throw new IllegalStateException(cause);
        }
    }
}
