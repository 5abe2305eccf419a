package io.udit.model;

import io.udit.engine.NativeScopes;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AutoGradMode;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorBase;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.VoidTensorHook;
import org.bytedeco.pytorch.global.torch;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Activation checkpointing for one forward pass over a chain of blocks (libtorch's C++ API has no
 * torch.utils.checkpoint). Each block runs without autograd and keeps only its input; its output continues as a
 * fresh leaf. A gradient hook on the newest leaf (the one the rest of the network consumes) runs the blocks'
 * backward when the loss's backward reaches it: in reverse order, each block is recomputed with autograd on from
 * its saved input and backpropagated with its output's gradient (a nested backward call), which accumulates the
 * parameter gradients and the gradient of whatever its input came from (the previous leaf, the ops between
 * levels, the embedding). The conditioning vectors enter the blocks as leaves too, and their gradients go back
 * through the embedders once, at the end. The recomputation repeats the same ops on the same values, so losses
 * and gradients are those of the plain graph (up to the summation order of the conditioning gradient). After each
 * block's backward its parameters' gradients are complete, and an optional sink receives them then.
 *
 * <p>The backward starts from the last block's output: the network must consume no other block output after its
 * last block (true for U-DiT with a non-empty last level, and for DiT).
 */
final class ActivationCheckpoints {
    private record Entry(Hooked.Conditioned block, Tensor input, Tensor cond, Tensor output) {}

    private final List<Entry> tape = new ArrayList<>();
    private final Map<Tensor, Tensor> condLeaves = new IdentityHashMap<>(); // conditioning (graph) -> its leaf
    private final boolean enabled;
    private final Consumer<List<Tensor>> sink;
    private Tensor hooked;
    private int hookHandle;

    /**
     * For one forward pass; when not enabled, block calls are plain calls. A non-null sink receives each block's
     * trainable parameters right after the block's backward (see Backbone.setBlockGradientSink).
     */
    ActivationCheckpoints(boolean enabled, Consumer<List<Tensor>> sink) {
        this.enabled = enabled;
        this.sink = sink;
    }

    /** A block call: checkpointed when enabled and autograd is recording, a plain call otherwise. */
    Tensor call(Hooked.Conditioned block, Tensor x, Tensor c) {
        if (!enabled || !GradMode.is_enabled()) return block.call(x, c);
        // kept past the caller's inner native scopes: later blocks and the backward use it
        Tensor cLeaf = condLeaves.computeIfAbsent(c, k -> NativeScopes.escape(k.detach().requires_grad_(true)));
        Tensor y;
        try (NoGradGuard g = new NoGradGuard()) {
            y = block.call(x, cLeaf);
        }
        Tensor out = y.requires_grad_(true);
        tape.add(new Entry(block, x, cLeaf, out));
        if (hooked != null) hooked.remove_hook(hookHandle);
        VoidTensorHook driver = NativeScopes.escape(new VoidTensorHook() {
            @Override
            public void call(TensorBase grad) {
                backward(new Tensor(grad));
            }
        });
        hooked = out;
        hookHandle = out.register_hook(driver);
        HookKeeper.keep(driver, out); // libtorch refers to the hook weakly; the graph after the blocks holds out
        return out;
    }

    private void backward(Tensor lastGrad) {
        for (int k = tape.size() - 1; k >= 0; k--) {
            Entry e = tape.get(k);
            Tensor g = k == tape.size() - 1 ? lastGrad : e.output.grad();
            if (g.defined()) {
                try (PointerScope scope = new PointerScope(); AutoGradMode on = new AutoGradMode(true)) {
                    Tensor y = e.block.call(e.input, e.cond);
                    torch.backward(new TensorVector(y), new TensorVector(g), new BoolOptional(false), false, new TensorVector());
                }
            }
            e.output.mutable_grad().reset();
            if (sink != null) {
                try (PointerScope scope = new PointerScope()) {
                    sink.accept(trainableParameters(e.block));
                }
            }
        }
        // The outer backward still has to take the layers after the blocks back through the same embedders: keep
        // their graph. It reaches them after this hook, since it runs the ready node created last first and the
        // embedders were created before everything else the hook's leaf waited for.
        for (var c : condLeaves.entrySet()) {
            Tensor g = c.getValue().grad();
            if (g.defined() && c.getKey().requires_grad()) {
                torch.backward(new TensorVector(c.getKey()), new TensorVector(g), new BoolOptional(true), false, new TensorVector());
            }
        }
        tape.clear();
        condLeaves.clear();
    }

    /** Own handles: a tensor taken out of a TensorVector with get(i) points into the vector, which may be freed first. */
    private static List<Tensor> trainableParameters(Hooked block) {
        TensorVector all = block.parameters();
        List<Tensor> out = new ArrayList<>();
        for (long i = 0; i < all.size(); i++) {
            Tensor p = new Tensor(all.get(i));
            if (p.requires_grad()) out.add(p);
        }
        return out;
    }
}
