package io.udit.model;

import io.udit.engine.NativeScopes;
import org.bytedeco.pytorch.Dispatcher;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.OperatorHandle;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorBase;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorTensorHook;
import org.bytedeco.pytorch.global.torch;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Scaled-dot-product attention, and what activation checkpointing keeps of it. libtorch runs fp32 attention on the
 * CPU with its flash kernel, whose backward needs only q, k, v, the output and the per-row log-sum-exp. So while a
 * checkpointed block runs its forward without autograd, each attention's output and log-sum-exp are kept (the size
 * of the block's input, plus one float per query row); when the block is recomputed for its backward, each attention
 * returns its kept output instead of running again, tied to q, k and v so that the backward reaches them, and hooks
 * there run the flash kernel's backward from the kept tensors. The values are the ones the plain graph computes
 * with the same kernel, and the recomputation saves the attention forward.
 *
 * <p>Outside a checkpointed block (and for inputs other than fp32 on the CPU) {@link #sdpa} is libtorch's
 * scaled_dot_product_attention.
 */
final class AttentionMemo {
    private static final ThreadLocal<AttentionMemo> CURRENT = new ThreadLocal<>();
    private static final OperatorHandle FLASH = NativeScopes.escape(
            Dispatcher.singleton().findSchemaOrThrow("aten::_scaled_dot_product_flash_attention_for_cpu", ""));
    private static final OperatorHandle FLASH_BACKWARD = NativeScopes.escape(
            Dispatcher.singleton().findSchemaOrThrow("aten::_scaled_dot_product_flash_attention_for_cpu_backward", ""));

    private final List<Tensor[]> kept = new ArrayList<>(); // per attention call: {output, logsumexp}, or null
    private final List<Object> hooks = new ArrayList<>(); // Java hooks and their Backward, while the graph may call them
    private boolean replaying;
    private int next;

    /** softmax(q k^T scale) v over (batch, heads, tokens, headDim) tensors, no mask, no dropout. */
    static Tensor sdpa(Tensor q, Tensor k, Tensor v, double scale) {
        AttentionMemo memo = CURRENT.get();
        if (memo == null) return plain(q, k, v, scale);
        return memo.replaying ? memo.replay(q, k, v, scale) : memo.record(q, k, v, scale);
    }

    private static Tensor plain(Tensor q, Tensor k, Tensor v, double scale) {
        return torch.scaled_dot_product_attention(q, k, v, new TensorOptional(), 0.0, false, new DoubleOptional(scale), false);
    }

    /** Runs a block's forward (without autograd), keeping what each attention's backward will need. */
    Tensor recording(Supplier<Tensor> forward) {
        return within(false, forward);
    }

    /** Runs the block's forward again (with autograd), each attention answered from what was kept. */
    Tensor replaying(Supplier<Tensor> forward) {
        next = 0;
        Tensor y = within(true, forward);
        if (next != kept.size()) throw new IllegalStateException("the recomputed block ran " + next + " attentions, not " + kept.size());
        return y;
    }

    private Tensor within(boolean replay, Supplier<Tensor> forward) {
        AttentionMemo outer = CURRENT.get();
        replaying = replay;
        CURRENT.set(this);
        try {
            return forward.get();
        } finally {
            if (outer == null) CURRENT.remove();
            else CURRENT.set(outer);
        }
    }

    /** fp32 on the CPU (the flash kernel), and self-attention shapes: q, k, v and the output all of one shape. */
    private static boolean keepable(Tensor q, Tensor k, Tensor v) {
        return !q.is_cuda() && q.scalar_type().intern() == torch.ScalarType.Float && q.dim() == 4
                && java.util.Arrays.equals(q.sizes().vec().get(), k.sizes().vec().get())
                && java.util.Arrays.equals(q.sizes().vec().get(), v.sizes().vec().get());
    }

    private Tensor record(Tensor q, Tensor k, Tensor v, double scale) {
        if (!keepable(q, k, v)) {
            kept.add(null);
            return plain(q, k, v, scale);
        }
        IValueVector stack = new IValueVector();
        for (Tensor t : new Tensor[] {q, k, v}) stack.push_back(new IValue(t));
        stack.push_back(new IValue(0.0)); // dropout_p
        stack.push_back(new IValue(false)); // is_causal
        stack.push_back(new IValue()); // attn_mask
        stack.push_back(new IValue(scale));
        Dispatcher.singleton().callBoxed(FLASH, stack);
        Tensor out = stack.get(0).toTensor(), lse = stack.get(1).toTensor();
        // past the block's native scope, until the block's backward has used them
        kept.add(new Tensor[] {NativeScopes.escape(new Tensor(out)), NativeScopes.escape(new Tensor(lse))});
        return out;
    }

    private Tensor replay(Tensor q, Tensor k, Tensor v, double scale) {
        Tensor[] saved = kept.get(next++);
        if (saved == null || !(q.requires_grad() && k.requires_grad() && v.requires_grad())) return plain(q, k, v, scale);
        // The kept output, tied to fresh aliases of q, k and v that only this expression consumes: s - s.detach() is
        // exactly zero, and hands dL/d(out) to each alias, where a hook swaps it for that input's share of the flash
        // kernel's backward. All of it runs inside the one backward pass, as the plain graph's attention node would.
        Tensor qa = q.alias(), ka = k.alias(), va = v.alias();
        Backward backward = new Backward(q, k, v, saved[0], saved[1], scale);
        hooks.add(backward);
        for (int i = 0; i < 3; i++) {
            TensorTensorHook hook = backward.hookFor(i);
            hooks.add(hook); // libtorch refers to Java hooks weakly: held here until the block's backward is done
            new Tensor[] {qa, ka, va}[i].register_hook(hook);
        }
        Tensor sum = qa.add(ka).add(va);
        return saved[0].add(sum.sub(sum.detach()));
    }

    /** Frees what was kept (after the block's backward, or when it never ran). */
    void release() {
        for (Tensor[] t : kept) if (t != null) for (Tensor x : t) x.deallocate();
        kept.clear();
        for (Object h : hooks) if (h instanceof Backward b) b.release();
        hooks.clear();
    }

    /** One attention's backward: the flash kernel's, from the kept output and log-sum-exp, computed once for q, k, v. */
    private static final class Backward {
        private Tensor q, k, v; // own handles (values only), released with the gradients
        private final Tensor out, lse;
        private final double scale;
        private Tensor[] grads; // dL/dq, dL/dk, dL/dv, from the first of the three hooks that runs

        Backward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, double scale) {
            this.q = NativeScopes.escape(q.detach());
            this.k = NativeScopes.escape(k.detach());
            this.v = NativeScopes.escape(v.detach());
            this.out = out;
            this.lse = lse;
            this.scale = scale;
        }

        TensorTensorHook hookFor(int input) {
            return NativeScopes.escape(new TensorTensorHook() {
                @Override
                public TensorBase call(TensorBase gradOut) {
                    return gradients(new Tensor(gradOut))[input];
                }
            });
        }

        private Tensor[] gradients(Tensor gradOut) {
            if (grads != null) return grads;
            if (q == null) throw new IllegalStateException("an attention's backward ran after its block's");
            IValueVector stack = new IValueVector();
            stack.push_back(new IValue(gradOut));
            for (Tensor t : new Tensor[] {q, k, v, out, lse}) stack.push_back(new IValue(t));
            stack.push_back(new IValue(0.0)); // dropout_p
            stack.push_back(new IValue(false)); // is_causal
            stack.push_back(new IValue()); // attn_mask
            stack.push_back(new IValue(scale));
            Dispatcher.singleton().callBoxed(FLASH_BACKWARD, stack);
            grads = new Tensor[3];
            for (int i = 0; i < 3; i++) grads[i] = NativeScopes.escape(new Tensor(stack.get(i).toTensor()));
            return grads;
        }

        void release() {
            for (Tensor t : new Tensor[] {q, k, v}) if (t != null) t.deallocate();
            if (grads != null) for (Tensor t : grads) t.deallocate();
            q = k = v = null;
            grads = null;
        }
    }
}
