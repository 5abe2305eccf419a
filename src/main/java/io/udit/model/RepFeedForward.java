package io.udit.model;

import io.udit.engine.NativeScopes;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The re-parameterisable FFN. Training form: two 1x1 convs in, exact GELU, identity + depthwise 5x5 + 3x3 + 1x1
 * branches summed, two 1x1 convs out. Inference form: each pair of 1x1 convs folds into one, and the three
 * depthwise kernels plus the identity fold into one 5x5 kernel. The folded weights are computed beside the trained
 * ones, never in place (the reference folds into the trained 5x5 weight, so a second eval() corrupts it).
 */
public final class RepFeedForward extends FeedForward {
    final int width, hidden;
    final Layers.Conv2d in0, in1, dw5, dw3, dw1, out0, out1;
    private volatile Folded folded; // built by prepare(EVAL), dropped by prepare(TRAIN)

    /** The single-conv inference weights. */
    public record Folded(Tensor inWeight, Tensor inBias, Tensor dwWeight, Tensor dwBias, Tensor outWeight, Tensor outBias) {
        public Tensor[] tensors() {
            return new Tensor[] {inWeight, inBias, dwWeight, dwBias, outWeight, outBias};
        }

        void release() {
            for (Tensor t : tensors()) t.close();
        }
    }

    RepFeedForward(int width, int hidden) {
        this.width = width;
        this.hidden = hidden;
        in0 = new Layers.Conv2d(width, hidden / 2, 1, true).hook(null, CONV1X1);
        in1 = new Layers.Conv2d(hidden / 2, hidden, 1, true).hook(null, CONV1X1);
        dw5 = new Layers.Conv2d(hidden, hidden, 5, hidden, true);
        dw3 = new Layers.Conv2d(hidden, hidden, 3, hidden, true);
        dw1 = new Layers.Conv2d(hidden, hidden, 1, hidden, true);
        out0 = new Layers.Conv2d(hidden, hidden / 2, 1, true).hook(null, CONV1X1);
        out1 = new Layers.Conv2d(hidden / 2, width, 1, true).hook(null, CONV1X1);
        register_module("project_in", Layers.sequence(in0, in1));
        register_module("dwconv", Layers.sequence(dw5, dw3, dw1));
        register_module("project_out", Layers.sequence(out0, out1));
    }

    /**
     * How the training form computes: the reference's separate branches, or the same function folded inside the
     * autograd graph. The fold is linear in the weights, so folding in the graph computes the same function with the
     * same gradients (the pad/sum/matmul backward hands each branch its share). The depthwise branches always fold
     * (one 5x5 instead of three convolutions and a sum); each pair of 1x1 convs folds into one only where that saves
     * work (see foldSavesWork): the fold itself is a product of the two weights, every step.
     */
    public enum TrainPath { BRANCHES, FOLDED_IN_GRAPH }

    private volatile TrainPath trainPath = TrainPath.FOLDED_IN_GRAPH;

    void setTrainPath(TrainPath p) {
        trainPath = p;
    }

    @Override
    public Tensor forward(Tensor x) {
        Folded f = folded; // present in eval form only
        if (f != null) return folded(x, f, true);
        if (trainPath == TrainPath.BRANCHES) return branches(x);
        if (foldSavesWork(x.size(0) * x.size(2) * x.size(3), width, hidden)) return folded(x, Hooks.step("ffn fold", () -> foldWith(true)), false);
        Tensor[] dw = Hooks.step("ffn fold", () -> foldDepthwise(t -> t));
        Tensor h = gelu(in1.call(in0.call(x)));
        return out1.call(out0.call(conv(DEPTHWISE, h, dw[0], dw[1], 2, hidden)));
    }

    /**
     * Whether folding a pair of 1x1 convs saves MACs at this many pixels: per pixel the pair costs
     * width x hidden/2 + hidden/2 x hidden and the folded conv width x hidden, while the fold costs hidden x hidden/2
     * x width once; so it pays when pixels x (hidden - width) > hidden x width (the same for the output pair). At
     * low resolution and large width (U-DiT's latent level) the two convs in a row are cheaper.
     */
    static boolean foldSavesWork(long pixels, long width, long hidden) {
        return pixels * (hidden - width) > hidden * width;
    }

    /** The reference's arithmetic: every branch separately. */
    private Tensor branches(Tensor x) {
        Tensor h = torch.gelu(in1.forward(in0.forward(x)));
        Tensor sum = h.add(dw5.forward(h)).add(dw3.forward(h)).add(dw1.forward(h));
        return out1.forward(out0.forward(sum));
    }

    /**
     * The folded FFN. In the inference form without autograd the GELU runs inside the 1x1 conv's primitive (its time
     * then counts as the conv's); the training form always runs the plain ops, so that a checkpointed block's
     * no-grad forward and its recomputation give the same numbers.
     */
    private Tensor folded(Tensor x, Folded f, boolean inferenceForm) {
        Tensor h = inferenceForm && ConvGelu.fuses(x, f.inWeight) ? Hooks.step(CONV1X1, () -> ConvGelu.fused(x, f.inWeight, f.inBias, 0, 1))
                : gelu(conv(CONV1X1, x, f.inWeight, f.inBias, 0, 1));
        return conv(CONV1X1, conv(DEPTHWISE, h, f.dwWeight, f.dwBias, 2, hidden), f.outWeight, f.outBias, 0, 1);
    }

    private static Tensor conv(String section, Tensor x, Tensor w, Tensor b, long pad, long groups) {
        return Hooks.step(section, () -> Ops.conv2d(x, w, b, pad, groups));
    }

    @Override
    void prepare(Form form) {
        Folded old = folded;
        folded = form == Form.EVAL ? NativeScopes.outsideScopes(this::fold) : null;
        if (old != null) old.release(); // free now rather than whenever the GC gets to it (refolds happen every preview)
    }

    /** The current inference weights (null in training form). */
    public Folded folded() {
        return folded;
    }

    /** Folds the trained weights into fresh tensors; reads the parameters, never writes them. */
    Folded fold() {
        return foldWith(false);
    }

    /** The fold, either detached (inference weights) or as differentiable functions of the parameters. */
    private Folded foldWith(boolean differentiable) {
        java.util.function.UnaryOperator<Tensor> p = differentiable ? t -> t : Tensor::detach;
        Tensor w0 = p.apply(in0.weight).flatten(1, -1), w1 = p.apply(in1.weight).flatten(1, -1);
        Tensor inW = product(w1, w0).unsqueeze(-1).unsqueeze(-1);
        Tensor inB = torch.matmul(w1, p.apply(in0.bias)).add(p.apply(in1.bias));

        Tensor[] dw = foldDepthwise(p);

        Tensor v0 = p.apply(out0.weight).flatten(1, -1), v1 = p.apply(out1.weight).flatten(1, -1);
        Tensor outW = product(v1, v0).unsqueeze(-1).unsqueeze(-1);
        Tensor outB = torch.matmul(v1, p.apply(out0.bias)).add(p.apply(out1.bias));
        return new Folded(inW.contiguous(), inB, dw[0], dw[1], outW.contiguous(), outB);
    }

    /** The depthwise kernel and bias: 5x5 + (3x3 padded by 1) + (1x1 + identity, padded by 2). */
    private Tensor[] foldDepthwise(java.util.function.UnaryOperator<Tensor> p) {
        Tensor dw = p.apply(dw5.weight)
                .add(torch.constant_pad_nd(p.apply(dw3.weight), new long[] {1, 1, 1, 1}, new Scalar(0.0)))
                .add(torch.constant_pad_nd(p.apply(dw1.weight).add(new Scalar(1.0)), new long[] {2, 2, 2, 2}, new Scalar(0.0)));
        return new Tensor[] {dw, p.apply(dw5.bias).add(p.apply(dw3.bias)).add(p.apply(dw1.bias))};
    }

    /** a @ b computed as (b^T a^T)^T, so that it takes Layers.linear's fast path (the fold runs every training step). */
    private static Tensor product(Tensor a, Tensor b) {
        return Layers.linear(b.t(), a, null).t();
    }
}
