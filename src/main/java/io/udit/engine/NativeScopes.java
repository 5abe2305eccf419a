package io.udit.engine;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;

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
     * Computes a tensor inside its own PointerScope, so every temporary made on the way is freed as soon as it
     * returns, while the result moves to the enclosing scope. Without this, a forward pass inside one step scope
     * keeps every intermediate of the whole network alive until the step ends (several GB for U-DiT-B at batch 8).
     * Autograd keeps what backward needs through its own references, so this is safe in training too.
     */
    public static <T extends Pointer> T scoped(Supplier<T> body) {
        PointerScope outer = PointerScope.getInnerScope();
        T result;
        try (PointerScope inner = new PointerScope()) {
            result = body.get();
            if (outer != null) {
                outer.attach(result);
            } else {
                result.retainReference(); // no enclosing scope: survive the inner one, left to the GC after
            }
        }
        return result;
    }

    /** Keeps a native object alive past every enclosing PointerScope; the GC frees it once unreachable. */
    public static <T extends Pointer> T escape(T p) {
        p.retainReference();
        return p;
    }

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
