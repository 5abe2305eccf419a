package io.udit.model;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * A module whose {@code call} runs its {@code forward} through {@link Hooks} (what {@code nn.Module.__call__} is to
 * {@code forward} in PyTorch). The parent gives each child its hook name (the path level its output is recorded
 * under) and profile section when it builds it; forward bodies only compute.
 */
public abstract class Hooked extends Module {
    private String hookName;
    private String section;

    /** Names this module's output (null: not recorded) and its profile section (null: its caller's). */
    @SuppressWarnings("unchecked")
    final <M extends Hooked> M hook(String name, String profileSection) {
        this.hookName = name;
        this.section = profileSection;
        return (M) this;
    }

    final Tensor hooked(java.util.function.Supplier<Tensor> forward) {
        return Hooks.around(hookName, section, forward);
    }

    /** A module of one input. */
    public abstract static class Unary extends Hooked {
        public abstract Tensor forward(Tensor x);

        public final Tensor call(Tensor x) {
            return hooked(() -> forward(x));
        }
    }

    /** A module of an input and a conditioning vector. */
    public abstract static class Conditioned extends Hooked {
        public abstract Tensor forward(Tensor x, Tensor c);

        public final Tensor call(Tensor x, Tensor c) {
            return hooked(() -> forward(x, c));
        }
    }
}
