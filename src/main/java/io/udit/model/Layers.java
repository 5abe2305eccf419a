package io.udit.model;

import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The three parameterised layers the reference uses (nn.Conv2d, nn.Linear, nn.Embedding), as thin modules whose
 * parameters are registered as "weight" / "bias" so state-dict keys come out exactly as in PyTorch.
 */
public final class Layers {
    private Layers() {}

    /** nn.Conv2d with square kernel, stride 1, "same" padding (k - 1) / 2, optional groups and bias. */
    public static final class Conv2d extends Hooked.Unary {
        public final Tensor weight;
        public final Tensor bias; // null when bias=False
        public final int in, out, kernel, groups;
        private final long[] padding;

        public Conv2d(int in, int out, int kernel, int groups, boolean bias) {
            this.in = in;
            this.out = out;
            this.kernel = kernel;
            this.groups = groups;
            this.padding = new long[] {(kernel - 1) / 2, (kernel - 1) / 2};
            this.weight = Tensors.zeros(ScalarType.Float, out, in / groups, kernel, kernel);
            register_parameter("weight", weight);
            this.bias = bias ? Tensors.zeros(ScalarType.Float, out) : null;
            if (bias) register_parameter("bias", this.bias);
        }

        public Conv2d(int in, int out, int kernel, boolean bias) {
            this(in, out, kernel, 1, bias);
        }

        @Override
        public Tensor forward(Tensor x) {
            return Ops.conv2d(x, weight, bias, padding[0], groups);
        }

    }

    /** nn.Linear. */
    public static final class Linear extends Hooked.Unary {
        public final Tensor weight;
        public final Tensor bias;
        public final int in, out;

        public Linear(int in, int out, boolean bias) {
            this.in = in;
            this.out = out;
            this.weight = Tensors.zeros(ScalarType.Float, out, in);
            register_parameter("weight", weight);
            this.bias = bias ? Tensors.zeros(ScalarType.Float, out) : null;
            if (bias) register_parameter("bias", this.bias);
        }

        @Override
        public Tensor forward(Tensor x) {
            return linear(x, weight, bias);
        }

    }

    /** Below this many rows a product is weight-bound (adaLN, embedders): see weightStreamed. */
    static final long CONV_PATH_MIN_ROWS = 32;

    /**
     * x W^T + b over the last axis (b may be null). On CPU in fp32 with enough rows it runs as a 1x1 convolution over
     * the rows laid out channels-last, i.e. in oneDNN on libtorch's OpenMP threads, which runs such products about twice
     * as fast as OpenBLAS's sgemm, single-threaded beside OpenMP (see Engine; figures in docs/performance.md). Same
     * function; the summation order differs only within fp32 rounding.
     */
    public static Tensor linear(Tensor x, Tensor w, Tensor b) {
        long out = w.size(0), in = w.size(1);
        long rows = x.dim() == 0 ? 0 : x.numel() / Math.max(1, in);
        TensorOptional bias = b == null ? new TensorOptional() : new TensorOptional(b);
        if (x.is_cuda() || x.scalar_type().intern() != ScalarType.Float || x.size(-1) != in || w.dim() != 2) {
            return torch.linear(x, w, bias);
        }
        if (rows < CONV_PATH_MIN_ROWS) {
            return streamsWeight(rows, out * in) ? weightStreamed(x, w, b, rows) : torch.linear(x, w, bias);
        }
        // (rows, in) row-major is the memory of an NCHW map (1, in, rows, 1) in channels-last order
        Tensor map = x.reshape(1, rows, 1, in).permute(0, 3, 1, 2);
        Tensor y = torch.conv2d(map, w.reshape(out, in, 1, 1), bias, new long[] {1, 1}, new long[] {0, 0}, new long[] {1, 1}, 1);
        long[] shape = Tensors.shape(x);
        shape[shape.length - 1] = out;
        return y.permute(0, 2, 3, 1).reshape(shape);
    }

    /** Weight-bound products at least this large (weights x rows) stream the weight through oneDNN's threads. */
    static final long STREAMED_MIN_MACS = 1L << 20;
    /** ... and have at least this many weights (smaller ones are as fast in OpenBLAS, measured in docs/performance.md). */
    static final long STREAMED_MIN_WEIGHTS = 1L << 17;

    static boolean streamsWeight(long rows, long weights) {
        return rows >= 1 && weights >= STREAMED_MIN_WEIGHTS && rows * weights >= STREAMED_MIN_MACS && torch.get_num_threads() > 1;
    }

    /**
     * x W^T + b for a few rows (adaLN's modulation, the embedders): such a product reads every weight once per few
     * MACs, so its speed is the speed at which W streams from memory. torch.linear hands it to OpenBLAS's single
     * thread; here the roles swap, W^T is a 1x1 convolution's input map (W's rows as pixels, its row-major memory as
     * channels-last) and x the kernel, so oneDNN splits the weight's rows over libtorch's threads. Same function,
     * gradients through the convolution's backward.
     */
    static Tensor weightStreamed(Tensor x, Tensor w, Tensor b, long rows) {
        long out = w.size(0), in = w.size(1);
        Tensor map = w.reshape(1, out, 1, in).permute(0, 3, 1, 2); // (1, in, out, 1), channels-last memory = W
        Tensor kernel = x.reshape(rows, in, 1, 1);
        Tensor y = torch.conv2d(map, kernel, new TensorOptional(), new long[] {1, 1}, new long[] {0, 0}, new long[] {1, 1}, 1)
                .reshape(rows, out); // (1, rows, out, 1) -> (rows, out)
        if (b != null) y = y.add(b);
        long[] shape = Tensors.shape(x);
        shape[shape.length - 1] = out;
        return y.reshape(shape);
    }

    /** nn.Embedding (key "embedding_table.weight" when registered as "embedding_table"). */
    public static final class Embedding extends Hooked.Unary {
        public final Tensor weight;

        public Embedding(int rows, int dim) {
            this.weight = Tensors.zeros(ScalarType.Float, rows, dim);
            register_parameter("weight", weight);
        }

        @Override
        public Tensor forward(Tensor ids) {
            return torch.embedding(weight, ids);
        }
    }

    /** A container whose children are named by position, like nn.Sequential / nn.ModuleList. */
    public static Module sequence(Module... children) {
        Module m = new Module();
        for (int i = 0; i < children.length; i++) {
            if (children[i] != null) m.register_module(Integer.toString(i), children[i]);
        }
        return m;
    }

    /** Weight initialisers with an explicit generator (no global RNG state). Call under a NoGradGuard. */
    public static final class Init {
        private Init() {}

        /** Xavier/Glorot uniform with fans from the full shape: fan_in = size(1) * receptive, fan_out = size(0) * receptive. */
        public static void xavierUniform(Tensor w, Generator g) {
            long[] s = Tensors.shape(w);
            long receptive = 1;
            for (int i = 2; i < s.length; i++) receptive *= s[i];
            xavierUniform(w, s[1] * receptive, s[0] * receptive, g);
        }

        public static void xavierUniform(Tensor w, long fanIn, long fanOut, Generator g) {
            double bound = Math.sqrt(6.0 / (fanIn + fanOut));
            w.uniform_(-bound, bound, new GeneratorOptional(g));
        }

        public static void normal(Tensor w, double std, Generator g) {
            w.normal_(0.0, std, new GeneratorOptional(g));
        }
    }
}
