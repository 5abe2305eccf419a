package io.udit.model;

import io.udit.engine.NativeScopes;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorBase;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.VoidTensorHook;
import org.bytedeco.pytorch.global.torch;

/**
 * A depthwise convolution (stride 1, "same" padding) whose kernel and bias gradients are computed by udit rather
 * than by oneDNN's convolution backward. On channels-last maps oneDNN computes a depthwise kernel gradient with its
 * generic convolution kernel, many times slower than the forward (figures in docs/performance.md). The same
 * gradient is a depthwise forward convolution: for every sample and channel, the padded input
 * correlated with the output gradient (the gradient map as the kernel, groups = batch x channels), summed over the
 * batch; the bias gradient is the output gradient summed over batch and pixels.
 *
 * <p>In training the convolution runs with a detached kernel and bias, so libtorch's backward computes only the
 * input gradient, and a gradient hook on the output computes the kernel and bias gradients from the saved input and
 * hands them to the kernel's own graph (the folded FFN kernel, or the parameter itself) in a nested backward. Same
 * values up to fp32 summation order (DepthwiseConvGradientTest). The nested backward accumulates into the leaves'
 * .grad, as backward() does: autograd's grad() for chosen inputs would not see the kernel gradient. Without autograd,
 * or where the conditions below do not hold, it is a plain convolution.
 */
final class DepthwiseConv {
    private DepthwiseConv() {}

    /** Whether conv2d(x, w, groups) is a depthwise convolution this class computes: one input and output per group. */
    static boolean applies(Tensor x, Tensor w, long pad, long groups) {
        return groups > 1 && x.dim() == 4 && x.size(1) == groups && w.size(0) == groups && w.size(1) == 1
                && w.size(2) == w.size(3) && w.size(2) == 2 * pad + 1 && !x.is_cuda()
                && x.scalar_type().intern() == torch.ScalarType.Float;
    }

    static Tensor forward(Tensor x, Tensor w, Tensor b, long pad) {
        boolean train = GradMode.is_enabled() && x.requires_grad() && (w.requires_grad() || b != null && b.requires_grad());
        if (!train) return conv(x, w, b, pad);
        Tensor wd = w.detach();
        Tensor y = conv(x, wd, b == null ? null : b.detach(), pad);
        VoidTensorHook hook = NativeScopes.escape(new ParameterGradients(x, w, b, pad));
        y.register_hook(hook);
        HookKeeper.keep(hook, wd); // the convolution's backward node saves wd until it has run
        return y;
    }

    private static Tensor conv(Tensor x, Tensor w, Tensor b, long pad) {
        return torch.conv2d(x, w, b == null ? new TensorOptional() : new TensorOptional(b),
                new long[] {1, 1}, new long[] {pad, pad}, new long[] {1, 1}, x.size(1));
    }

    /** Samples per kernel-gradient convolution are chosen so that its copies of x and dL/dy stay below this. */
    static final long CHUNK_ELEMENTS = 2L << 20;

    /** Rows per kernel-gradient convolution are chosen so that no fp32 sum runs over more products than this. */
    static final long MAX_TERMS = 1024;

    /**
     * From this many channels x map rows the kernel gradient runs sample by sample: on U-DiT's shapes (batch 8, 5x5
     * kernels, 8x8 to 32x32 maps) that form is as fast or faster from 6144 channel rows and slower at 3072 and below
     * (docs/performance.md), where a call's fixed cost outweighs the copies it saves.
     */
    static final long PER_SAMPLE_CHANNEL_ROWS = 4096;

    /**
     * dL/dw of y = conv(x, w, pad) for a depthwise w of (C, 1, 2 pad + 1, 2 pad + 1): per sample and channel, x
     * (zero-padded) correlated with dL/dy, summed over the batch. Over strips of rows on large maps, so that each
     * fp32 sum stays short and the result as accurate as libtorch's own kernel gradient, which splits its sums too.
     * On maps with many channels and rows it runs sample by sample on x and dL/dy as they are (one sample of a
     * channels-last map is a channels-last map, and the convolution pads it); on smaller ones, over chunks of the
     * batch copied into one map of batch x channels groups, whose copies add little to the backward's peak memory.
     */
    static Tensor kernelGradient(Tensor x, Tensor gy, long pad) {
        long n = x.size(0), h = x.size(2), w = x.size(3);
        long rows = Math.max(1, Math.min(h, MAX_TERMS / Math.max(1, w)));
        boolean perSample = runsPerSample(x.size(1), h);
        long samples = perSample ? 1 : Math.max(1, Math.min(n, CHUNK_ELEMENTS / Math.max(1, x.numel() / Math.max(1, n))));
        Tensor sum = null;
        for (long s = 0; s < n; s += samples) {
            for (long r = 0; r < h; r += rows) {
                long from = s, count = Math.min(samples, n - s), top = r, height = Math.min(rows, h - r);
                Tensor part = NativeScopes.scoped(() -> perSample
                        ? sampleStripGradient(x.narrow(0, from, count), gy.narrow(0, from, count), top, height, pad)
                        : stripGradient(x.narrow(0, from, count), gy.narrow(0, from, count), top, height, pad));
                sum = sum == null ? part : sum.add_(part);
            }
        }
        return sum;
    }

    /** Whether the kernel gradient of (C, H, W) maps runs sample by sample. */
    static boolean runsPerSample(long channels, long h) {
        return channels * h >= PER_SAMPLE_CHANNEL_ROWS;
    }

    /**
     * The kernel gradient from output rows [top, top + height) of one sample, as a depthwise convolution of its x rows
     * top - pad .. top + height + pad (zeros beyond the map) with its dL/dy rows as the kernel. The convolution pads
     * the columns, and the rows where the padding is the same on both sides; a strip at one edge of a map taller than
     * it is padded by a copy of its rows.
     */
    private static Tensor sampleStripGradient(Tensor x, Tensor gy, long top, long height, long pad) {
        long c = x.size(1), h = x.size(2), k = 2 * pad + 1;
        long lo = Math.max(0, top - pad), hi = Math.min(h, top + height + pad);
        long padTop = lo - (top - pad), padBottom = top + height + pad - hi;
        Tensor rows = x.narrow(2, lo, hi - lo);
        if (padTop != padBottom) {
            rows = torch.constant_pad_nd(rows, new long[] {0, 0, padTop, padBottom}, new Scalar(0.0));
            padTop = 0;
        }
        Tensor kernel = gy.narrow(2, top, height).permute(1, 0, 2, 3); // (C, 1, height, W), no copy
        return torch.conv2d(rows, kernel, new TensorOptional(), new long[] {1, 1}, new long[] {padTop, pad}, new long[] {1, 1}, c)
                .reshape(c, 1, k, k);
    }

    /** The kernel gradient from output rows [top, top + height) of some samples: x rows top - pad .. top + height + pad. */
    private static Tensor stripGradient(Tensor x, Tensor gy, long top, long height, long pad) {
        long n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), k = 2 * pad + 1;
        long lo = Math.max(0, top - pad), hi = Math.min(h, top + height + pad);
        Tensor maps = torch.zeros(new long[] {n, c, height + 2 * pad, w + 2 * pad}, x.options()); // NCHW, zeros around
        maps.narrow(2, lo - (top - pad), hi - lo).narrow(3, pad, w).copy_(x.narrow(2, lo, hi - lo));
        Tensor kernels = gy.narrow(2, top, height).contiguous().view(n * c, 1, height, w);
        return torch.conv2d(maps.view(1, n * c, height + 2 * pad, w + 2 * pad), kernels, new TensorOptional(),
                new long[] {1, 1}, new long[] {0, 0}, new long[] {1, 1}, n * c).view(n, c, k, k).sum(new long[] {0}).unsqueeze(1);
    }

    /** The hook on one call's output: its kernel and bias gradients, handed to their graphs once. */
    private static final class ParameterGradients extends VoidTensorHook {
        private Tensor x, w, b; // own handles, released once the gradients are handed on
        private final long pad;

        ParameterGradients(Tensor x, Tensor w, Tensor b, long pad) {
            this.x = NativeScopes.escape(x.detach());
            this.w = w.requires_grad() ? NativeScopes.escape(new Tensor(w)) : null;
            this.b = b != null && b.requires_grad() ? NativeScopes.escape(new Tensor(b)) : null;
            this.pad = pad;
        }

        @Override
        public void call(TensorBase grad) {
            if (x == null) throw new IllegalStateException("a depthwise convolution's backward ran twice over one graph (retain_graph)");
            try (PointerScope scope = new PointerScope()) {
                Tensor gy = new Tensor(grad);
                TensorVector roots = new TensorVector(), grads = new TensorVector();
                if (w != null) {
                    roots.push_back(w);
                    grads.push_back(kernelGradient(x, gy, pad));
                }
                if (b != null) {
                    roots.push_back(b);
                    grads.push_back(gy.sum(new long[] {0, 2, 3}));
                }
                // retained: a kernel computed once may feed several convolutions (its graph is freed with it)
                torch.backward(roots, grads, new BoolOptional(true), false, new TensorVector());
            } finally {
                release();
            }
        }

        private void release() {
            for (Tensor t : new Tensor[] {x, w, b}) if (t != null) t.deallocate();
            x = w = b = null;
        }
    }
}
