package io.udit.model;

import io.udit.engine.NativeScopes;
import io.udit.engine.Tensors;
import io.udit.model.UDiTConfig.AttentionType;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.concurrent.ConcurrentHashMap;

/**
 * U-DiT's self-attention on downsampled tokens. A depthwise conv (+ shortcut) mixes neighbours, a 2x2
 * pixel-unshuffle splits the map into 4 sub-grids, and each sub-grid attends within itself (4 sequences of HW/4
 * tokens); heads are merged and the sub-grids shuffled back. Cosine attention with a learned per-head logit
 * scale and 2-D RoPE on q and k, as in the reference (attn_type "v2", posemb_type "rope2d").
 */
public final class DownsampledAttention extends Hooked.Unary {
    /** Cap of the learned logit scale: exp(4.6052) = 100. */
    static final double LOGIT_SCALE_MAX = 4.6052;

    final int dim, heads, headDim, factor;
    final AttentionType type;
    final boolean rope;
    final Tensor logitScale; // (heads, 1, 1), only for cosine attention
    final Downsampler downsampler;
    final Layers.Linear toQkv;
    final Layers.Conv2d toOut;
    volatile AttentionKernel kernel = AttentionKernel.FUSED;
    private final ConcurrentHashMap<Integer, RopeTable> ropeTables = new ConcurrentHashMap<>();

    public DownsampledAttention(int dim, int heads, int resolution, int factor, UDiTConfig c) {
        this.dim = dim;
        this.heads = heads;
        this.headDim = dim / heads;
        this.factor = factor;
        this.type = c.attention();
        this.rope = c.position() == UDiTConfig.PositionType.ROPE2D;
        if (type == AttentionType.COSINE) {
            logitScale = torch.full(new long[] {heads, 1, 1}, new Scalar(Math.log(10.0)), Tensors.options(ScalarType.Float));
            register_parameter("logit_scale", logitScale);
        } else {
            logitScale = null;
        }
        toQkv = new Layers.Linear(dim, 3 * dim, true).hook(null, "attn qkv linear");
        register_module("to_qkv", toQkv);
        toOut = new Layers.Conv2d(dim, dim, 1, true).hook(null, "attn out conv1x1");
        register_module("to_out", toOut);
        downsampler = new Downsampler(dim, c.downsamplerKernel(), c.downShortcut(), factor).hook("downsampler", null);
        if (downsampler.conv != null) register_module("downsampler", downsampler);
        if (rope) ropeTable(resolution * resolution / (factor * factor)); // built now, outside any PointerScope
    }

    /**
     * The reference's downsampler: depthwise conv (+ shortcut) mixing neighbours (key layer), then the 2x2
     * sub-grids as 4 token sequences, 'b d (h dh) (w dw) -> b (dh dw) (h w) d'.
     */
    static final class Downsampler extends Hooked.Unary {
        final Layers.Conv2d conv; // depthwise, null when the downsampler is pixel-unshuffle only
        final boolean shortcut;
        final int dim, factor;

        Downsampler(int dim, int kernel, boolean shortcut, int factor) {
            this.conv = kernel > 0 ? new Layers.Conv2d(dim, dim, kernel, dim, true) : null;
            this.shortcut = shortcut;
            this.dim = dim;
            this.factor = factor;
            if (conv != null) register_module("layer", conv);
        }

        @Override
        public Tensor forward(Tensor x) {
            return subGrids(conv == null ? x : mix(x));
        }

        private Tensor mix(Tensor x) {
            return Hooks.step("attn depthwise (downsampler)", () -> shortcut ? conv.forward(x).add(x) : conv.forward(x));
        }

        /**
         * Read through the channels-last memory (b, h, w, d): the forward is one copy, and the backward hands the
         * convolutions before it a channels-last gradient (split from the NCHW view, the gradient would come back as
         * an NCHW copy that every op before it converts again).
         */
        private Tensor subGrids(Tensor x) {
            long b = x.size(0), f = factor, hs = x.size(2) / f, ws = x.size(3) / f;
            return Hooks.step("attn rearrange", () -> x.permute(0, 2, 3, 1).reshape(b, hs, f, ws, f, dim).permute(0, 2, 4, 1, 3, 5)
                    .reshape(b, f * f, hs * ws, dim));
        }
    }

    @Override
    public Tensor forward(Tensor x) {
        long b = x.size(0), h = x.size(2), w = x.size(3), p = (long) factor * factor, n = h * w / p;
        Tensor[] qkAndV = Ops.split(toQkv.call(downsampler.call(x)), new long[] {2L * dim, dim}, -1); // (b, p, n, .)
        Tensor qk = rope ? rotate(qkAndV[0], n) : qkAndV[0];
        Tensor v = splitHeads(qkAndV[1], b, p, n);
        Tensor out = kernel == AttentionKernel.FUSED ? fused(qk, v, b, p, n) : math(qk, v, b, p, n);
        return toOut.call(mergeHeads(out, b, h, w));
    }

    /** 2-D RoPE on the q and k heads in one complex multiply. */
    private Tensor rotate(Tensor qk, long n) {
        return Hooks.step("attn rope", () -> ropeTable((int) n).on(qk.device()).rotate(qk, 2 * heads));
    }

    /**
     * 'b (dh dw) he (h w) d -> b (he d) (h dh) (w dw)', written channels-last (memory b h w (he d)) like the rest of
     * the network: the 1x1 conv then reads contiguous channel rows instead of reordering an NCHW map.
     */
    private Tensor mergeHeads(Tensor out, long b, long h, long w) {
        long f = factor;
        return Hooks.step("attn rearrange", () -> out.reshape(b, f, f, heads, h / f, w / f, headDim).permute(0, 4, 1, 5, 2, 3, 6)
                .reshape(b, h, w, dim).permute(0, 3, 1, 2));
    }

    private Tensor splitHeads(Tensor t, long b, long p, long n) {
        return t.reshape(b, p, n, heads, headDim).permute(0, 1, 3, 2, 4);
    }

    /** The reference's arithmetic: logits, scale, softmax, weighted sum. */
    private Tensor math(Tensor qk, Tensor v, long b, long p, long n) {
        return Hooks.step("attn math", () -> {
            Tensor[] qAndK = Ops.split(qk, 2, -1);
            return math(splitHeads(qAndK[0], b, p, n), splitHeads(qAndK[1], b, p, n), v);
        });
    }

    private Tensor math(Tensor q, Tensor k, Tensor v) {
        Tensor logits;
        if (type == AttentionType.COSINE) {
            logits = torch.matmul(Ops.l2Normalize(q), Ops.l2Normalize(k).transpose(-2, -1)).mul(cosineScale());
        } else {
            logits = torch.matmul(q, k.transpose(-2, -1)).mul(new Scalar(1.0 / Math.sqrt(headDim)));
        }
        return torch.matmul(Ops.softmaxLast(logits), v);
    }

    /**
     * Fused SDPA. For cosine attention q and k are L2-normalised together, with the per-head logit scale as q's factor
     * (the scale differs per head, so it goes into q and SDPA runs at scale 1).
     */
    private Tensor fused(Tensor qk, Tensor v, long b, long p, long n) {
        Tensor[] qkPair = type == AttentionType.COSINE ? cosineNormalized(qk, b, p, n) : heads(qk, b, p, n);
        double scale = type == AttentionType.COSINE ? 1.0 : 1.0 / Math.sqrt(headDim);
        Tensor[] qkv = sequences(qkPair[0], qkPair[1], v, b * p, n);
        return Hooks.step("attn sdpa", () -> torch.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], new TensorOptional(),
                0.0, false, new DoubleOptional(scale), false).reshape(b, p, heads, n, headDim));
    }

    /** q, k, v as (b p, heads, n, headDim): one batch of attention sequences. */
    private Tensor[] sequences(Tensor q, Tensor k, Tensor v, long bp, long n) {
        return Hooks.step("attn rearrange", () -> new Tensor[] {q.reshape(bp, heads, n, headDim),
                k.reshape(bp, heads, n, headDim), v.reshape(bp, heads, n, headDim)});
    }

    /** q and k L2-normalised together, q's rows times the per-head logit scale. */
    private Tensor[] cosineNormalized(Tensor qk, long b, long p, long n) {
        return Hooks.step("attn normalize", () -> normalizedPair(qk, b, p, n));
    }

    private Tensor[] normalizedPair(Tensor qk, long b, long p, long n) {
        Tensor slots = qk.view(b, p, n, 2L * heads, headDim);
        // q slots: exp(min(logit_scale, 4.6052)) q / max(|q|, 1e-12); k slots: k / max(|k|, 1e-12)
        Tensor scale4q = cosineScale().reshape(heads, 1);
        Tensor perSlot = torch.cat(new TensorVector(scale4q, torch.ones_like(scale4q)), 0);
        return heads(ScaledNormalize.apply(slots, perSlot).view(b, p, n, 2L * dim), b, p, n);
    }

    /** q and k side by side (b, p, n, 2 dim) as two (b, p, heads, n, headDim) views. */
    private Tensor[] heads(Tensor qk, long b, long p, long n) {
        Tensor[] qAndK = Ops.split(qk, 2, -1);
        return new Tensor[] {splitHeads(qAndK[0], b, p, n), splitHeads(qAndK[1], b, p, n)};
    }

    /** exp(min(logit_scale, 4.6052)), shape (heads, 1, 1). */
    private Tensor cosineScale() {
        return logitScale.clamp_max(new Scalar(LOGIT_SCALE_MAX)).exp();
    }

    RopeTable ropeTable(int tokens) {
        RopeTable t = ropeTables.get(tokens);
        if (t == null) {
            // a table built inside a caller's PointerScope would be freed with it: build it outside every scope
            t = NativeScopes.outsideScopes(() -> new RopeTable(tokens, headDim));
            RopeTable prev = ropeTables.putIfAbsent(tokens, t);
            if (prev != null) t = prev;
        }
        return t;
    }
}
