package io.udit.model;

import io.udit.engine.NativeScopes;
import io.udit.engine.Tensors;
import io.udit.model.UDiTConfig.AttentionType;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Module;
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
public final class DownsampledAttention extends Module {
    /** Cap of the learned logit scale: exp(4.6052) = 100. */
    static final double LOGIT_SCALE_MAX = 4.6052;

    final int dim, heads, headDim, factor;
    final AttentionType type;
    final boolean rope;
    final boolean shortcut;
    final Tensor logitScale; // (heads, 1, 1), only for cosine attention
    final Layers.Linear toQkv;
    final Layers.Conv2d toOut;
    final Layers.Conv2d downsampler; // depthwise, null when the downsampler is pixel-unshuffle only
    private final ConcurrentHashMap<Integer, RopeTable> ropeTables = new ConcurrentHashMap<>();

    public DownsampledAttention(int dim, int heads, int resolution, int factor, UDiTConfig c) {
        this.dim = dim;
        this.heads = heads;
        this.headDim = dim / heads;
        this.factor = factor;
        this.type = c.attention();
        this.rope = c.position() == UDiTConfig.PositionType.ROPE2D;
        this.shortcut = c.downShortcut();
        if (type == AttentionType.COSINE) {
            logitScale = torch.full(new long[] {heads, 1, 1}, new Scalar(Math.log(10.0)), Tensors.options(ScalarType.Float));
            register_parameter("logit_scale", logitScale);
        } else {
            logitScale = null;
        }
        toQkv = new Layers.Linear(dim, 3 * dim, true);
        register_module("to_qkv", toQkv);
        toOut = new Layers.Conv2d(dim, dim, 1, true);
        register_module("to_out", toOut);
        if (c.downsamplerKernel() > 0) {
            downsampler = new Layers.Conv2d(dim, dim, c.downsamplerKernel(), dim, true);
            Module wrapper = new Module();
            wrapper.register_module("layer", downsampler);
            register_module("downsampler", wrapper);
        } else {
            downsampler = null;
        }
        if (rope) ropeTable(resolution * resolution / (factor * factor)); // built now, outside any PointerScope
    }

    /** Which attention kernel runs: the reference's explicit math, or libtorch's fused SDPA (scale folded into q). */
    public enum Kernel { MATH, FUSED }

    public Tensor forward(Tensor x, Kernel kernel, Probe probe) {
        long b = x.size(0), h = x.size(2), w = x.size(3);
        long f = factor, hs = h / f, ws = w / f, n = hs * ws, p = f * f;
        Tensor mixed = downsampler == null ? x : probe.time("attn depthwise (downsampler)",
                () -> shortcut ? downsampler.forward(x).add(x) : downsampler.forward(x));
        // 'b d (h dh) (w dw) -> b (dh dw) (h w) d'
        Tensor tokens = probe.time("attn rearrange", () -> mixed.reshape(b, dim, hs, f, ws, f).permute(0, 3, 5, 2, 4, 1).reshape(b, p, n, dim));
        probe.record("downsampler", tokens);
        Tensor qkv = probe.time("attn qkv linear", () -> toQkv.forward(tokens)); // (b, p, n, 3 * dim): q, k, v side by side
        Tensor qk0 = qkv.narrow(-1, 0, 2 * dim);
        // q and k heads in one complex multiply
        Tensor qk = rope ? probe.time("attn rope", () -> ropeTable((int) n).on(qk0.device()).rotate(qk0, 2 * heads)) : qk0;
        Tensor v = splitHeads(qkv.narrow(-1, 2 * dim, dim), b, p, n);
        Tensor out = kernel == Kernel.FUSED ? fused(qk, v, b, p, n, probe) : probe.time("attn math", () -> math(
                splitHeads(qk.narrow(-1, 0, dim), b, p, n), splitHeads(qk.narrow(-1, dim, dim), b, p, n), v));
        // 'b (dh dw) he (h w) d -> b (he d) (h dh) (w dw)', written channels-last (memory b h w (he d)) like the rest
        // of the network: the 1x1 conv then reads contiguous channel rows instead of reordering an NCHW map
        Tensor merged = probe.time("attn rearrange", () -> out.reshape(b, f, f, heads, hs, ws, headDim).permute(0, 4, 1, 5, 2, 3, 6)
                .reshape(b, h, w, dim).permute(0, 3, 1, 2));
        return probe.time("attn out conv1x1", () -> toOut.forward(merged));
    }

    private Tensor splitHeads(Tensor t, long b, long p, long n) {
        return t.reshape(b, p, n, heads, headDim).permute(0, 1, 3, 2, 4);
    }

    /** The reference's arithmetic: logits, scale, softmax, weighted sum. */
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
     * Fused SDPA. For cosine attention q and k are L2-normalised together in one division whose denominators
     * carry the per-head logit scale for q (the scale differs per head, so it goes into q and SDPA runs at scale 1).
     */
    private Tensor fused(Tensor qk, Tensor v, long b, long p, long n, Probe probe) {
        double scale;
        Tensor q, k;
        if (type == AttentionType.COSINE) {
            Tensor[] qkn = probe.time("attn normalize", () -> cosineNormalized(qk, b, p, n));
            q = qkn[0];
            k = qkn[1];
            scale = 1.0;
        } else {
            q = splitHeads(qk.narrow(-1, 0, dim), b, p, n);
            k = splitHeads(qk.narrow(-1, dim, dim), b, p, n);
            scale = 1.0 / Math.sqrt(headDim);
        }
        Tensor qq = q, kk = k;
        Tensor[] qkv4 = probe.time("attn rearrange", () -> new Tensor[] {qq.reshape(b * p, heads, n, headDim),
                kk.reshape(b * p, heads, n, headDim), v.reshape(b * p, heads, n, headDim)});
        double s = scale;
        return probe.time("attn sdpa", () -> torch.scaled_dot_product_attention(qkv4[0], qkv4[1], qkv4[2], new TensorOptional(),
                0.0, false, new DoubleOptional(s), false).reshape(b, p, heads, n, headDim));
    }

    /** q and k L2-normalised in one division whose denominators carry the per-head logit scale for q. */
    private Tensor[] cosineNormalized(Tensor qk, long b, long p, long n) {
        Tensor slots = qk.view(b, p, n, 2L * heads, headDim);
        Tensor norm = slots.norm(new org.bytedeco.pytorch.ScalarOptional(new Scalar(2.0)), new long[] {-1}, true)
                .clamp_min(new Scalar(1e-12));
        // q slots: norm / exp(min(logit_scale, 4.6052)); k slots: norm
        Tensor scale4q = cosineScale().reshape(heads, 1);
        Tensor perSlot = torch.cat(new TensorVector(scale4q, torch.ones_like(scale4q)), 0);
        Tensor unit = slots.div(norm.div(perSlot)).view(b, p, n, 2L * dim);
        return new Tensor[] {splitHeads(unit.narrow(-1, 0, dim), b, p, n), splitHeads(unit.narrow(-1, dim, dim), b, p, n)};
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
