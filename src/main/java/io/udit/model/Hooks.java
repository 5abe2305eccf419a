package io.udit.model;

import org.bytedeco.pytorch.Tensor;

import java.util.ArrayDeque;
import java.util.function.Supplier;

/**
 * The one place where forward passes are observed, as PyTorch's module hooks do: every call of a hooked module
 * (see Hooked) or hooked step goes through {@link #around}, which, while a probe is attached to the current thread,
 * times the call under its profile section and records a named call's output under its dotted module path
 * (the reference's names, e.g. {@code encoder_level_1.0.attn1}). With no probe attached a call costs one
 * thread-local read.
 */
public final class Hooks {
    private Hooks() {}

    private record Observer(Probe probe, ArrayDeque<String> path) {}

    private static final ThreadLocal<Observer> ACTIVE = new ThreadLocal<>();

    /** Runs one forward pass with {@code probe} attached to this thread's hooked calls. */
    public static <T> T observe(Probe probe, Supplier<T> pass) {
        Observer previous = ACTIVE.get();
        ACTIVE.set(probe == Probe.NONE ? null : new Observer(probe, new ArrayDeque<>()));
        try {
            return pass.get();
        } finally {
            if (previous == null) ACTIVE.remove(); else ACTIVE.set(previous);
        }
    }

    /**
     * Runs {@code body} as the call of a hooked module or step: timed under {@code section} (null: the enclosing
     * section's time), its output recorded under the current path + {@code name} (null: not recorded, no path level).
     */
    static <T> T around(String name, String section, Supplier<T> body) {
        Observer o = ACTIVE.get();
        if (o == null) return body.get();
        if (name != null) o.path.addLast(name);
        try {
            T out = section == null ? body.get() : o.probe.time(section, body);
            if (name != null && out instanceof Tensor t) o.probe.record(String.join(".", o.path), t);
            return out;
        } finally {
            if (name != null) o.path.removeLast();
        }
    }

    /** A parameter-free step of a forward pass (a helper function in the reference), timed under its section. */
    static <T> T step(String section, Supplier<T> body) {
        return around(null, section, body);
    }
}
