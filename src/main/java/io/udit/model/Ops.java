package io.udit.model;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/** Functional building blocks shared by the models, each one line of libtorch. */
final class Ops {
    private Ops() {}

    static final double LN_EPS = 1e-6;

    /** A stride-1 convolution with the given zero padding; depthwise ones through DepthwiseConv. */
    static Tensor conv2d(Tensor x, Tensor w, Tensor b, long pad, long groups) {
        if (DepthwiseConv.applies(x, w, pad, groups)) return DepthwiseConv.forward(x, w, b, pad);
        return torch.conv2d(x, w, b == null ? new TensorOptional() : new TensorOptional(b),
                new long[] {1, 1}, new long[] {pad, pad}, new long[] {1, 1}, groups);
    }

    /** LayerNorm over the channel axis of an NCHW map, no affine (the reference's LayerNorm2d(affine=False)). */
    static Tensor channelLayerNorm(Tensor x) {
        return layerNormLast(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2);
    }

    /**
     * layer_norm over the last axis with unit weight and zero bias: the same numbers as no affine (x * 1 + 0 is
     * exact), but libtorch's CPU kernel for the affine case is about twice as fast as its weightless one.
     */
    private static Tensor layerNormLast(Tensor x) {
        long c = x.size(-1);
        org.bytedeco.pytorch.TensorOptions o = x.options();
        return torch.layer_norm(x, new long[] {c}, new TensorOptional(torch.ones(new long[] {c}, o)),
                new TensorOptional(torch.zeros(new long[] {c}, o)), LN_EPS, false);
    }

    /** LayerNorm over the last axis, no affine (DiT's token LayerNorm). */
    static Tensor tokenLayerNorm(Tensor x) {
        return layerNormLast(x);
    }

    /** x * (1 + scale) + shift with (N, C) modulation broadcast over H and W. */
    static Tensor modulate2d(Tensor x, Tensor shift, Tensor scale) {
        // one fused pass over the map (addcmul) rather than a multiply and an add
        return torch.addcmul(shift.unsqueeze(-1).unsqueeze(-1), x, scale.add(new Scalar(1.0)).unsqueeze(-1).unsqueeze(-1));
    }

    /** residual + gate * y, gate (N, C) broadcast over H and W, in one pass. */
    static Tensor gatedResidual2d(Tensor residual, Tensor gate, Tensor y) {
        return torch.addcmul(residual, gate.unsqueeze(-1).unsqueeze(-1), y);
    }

    /** F.normalize(x, dim=-1): x / max(||x||_2, 1e-12). */
    static Tensor l2Normalize(Tensor x) {
        Tensor norm = x.norm(new ScalarOptional(new Scalar(2.0)),
                new long[] {-1}, true);
        return x.div(norm.clamp_min(new Scalar(1e-12)));
    }

    /**
     * torch.chunk: equal views along dim. One autograd node for all parts, whose backward concatenates their
     * gradients in one pass (a narrow per part would zero-fill a full-size gradient per part and add them up).
     */
    static Tensor[] split(Tensor x, int parts, long dim) {
        return handles(torch.chunk(x, parts, dim));
    }

    /** torch.unbind: the slices along dim, with one stacking backward (a select per slice would zero-fill each). */
    static Tensor[] unbind(Tensor x, long dim) {
        return handles(torch.unbind(x, dim));
    }

    /** torch.split with sizes: views of these sizes along dim, with split's one-pass backward. */
    static Tensor[] split(Tensor x, long[] sizes, long dim) {
        return handles(torch.split(x, sizes, dim));
    }

    /**
     * Own handles to the vector's tensors. Never keep tensors taken out of a TensorVector with get(i): they are
     * references into the vector's memory and dangle once the vector is collected.
     */
    private static Tensor[] handles(TensorVector v) {
        Tensor[] out = new Tensor[(int) v.size()];
        for (int i = 0; i < out.length; i++) out[i] = new Tensor(v.get(i));
        return out;
    }

    static Tensor softmaxLast(Tensor x) {
        return torch.softmax(x, -1, new ScalarTypeOptional());
    }
}
