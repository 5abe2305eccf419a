package io.udit.eval;

import io.udit.engine.Engine;
import io.udit.engine.NativeScopes;
import io.udit.engine.Tensors;
import io.udit.io.WeightFiles;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Inception-v3 network of FID: the 2015 TensorFlow graph ({@code inception-2015-12-05}) as ported to PyTorch by
 * pytorch-fid ({@code pt_inception-2015-12-05-6726825d.pth}). Structure is torchvision's Inception3 (1008 classes, no
 * auxiliary head) with pytorch-fid's patches: {@code FIDInceptionA} and {@code FIDInceptionC} (Mixed_5b-d,
 * Mixed_6b-e) and {@code FIDInceptionE_1} (Mixed_7b) average-pool with {@code count_include_pad=False};
 * {@code FIDInceptionE_2} (Mixed_7c) max-pools its pool branch. BasicConv2d is conv (no bias) + BatchNorm(eps 0.001)
 * + ReLU; BatchNorm is folded into the convolution once the weights are loaded.
 *
 * <p>State-dict keys are exactly pytorch-fid's ({@code Conv2d_1a_3x3.conv.weight}, {@code Mixed_5b.branch1x1.bn.running_mean},
 * ..., {@code fc.weight}, {@code fc.bias}), so its file loads without renaming; {@code *.num_batches_tracked} entries
 * are accepted and ignored.
 *
 * <p>{@link #forward} takes uint8 (or float in [0, 255]) NHWC images as the ADM evaluator's batches hold them, scales to
 * [0, 1], resizes to 299 x 299 with {@code F.interpolate(mode="bilinear", align_corners=False)} and maps to [-1, 1]
 * (pytorch-fid's {@code resize_input} and {@code normalize_input}). Outputs, as the ADM evaluator names them:
 * <ul>
 *   <li>{@code pool3}: the 2048-d global average pool ({@code pool_3:0}), for FID, precision and recall;</li>
 *   <li>{@code spatial}: {@code mixed_6/conv:0} = the ReLU output of Mixed_6d's 1x1 branch (TF's mixed_6 is the
 *       third 17x17 block), first 7 of its 192 channels, flattened in NHWC order to 17 x 17 x 7 = 2023 values, for sFID;</li>
 *   <li>{@code logits}: {@code pool3 . fc.weight^T} without the bias, as ADM takes the {@code softmax/logits/MatMul}
 *       weight only; softmax of these gives the inception score's p(y|x).</li>
 * </ul>
 * Note: the ADM evaluator runs the original TF graph, whose resize is TF1's {@code ResizeBilinear}
 * (no half-pixel centres) and whose scaling is {@code (x - 128) / 128}; pytorch-fid's preprocessing (used here) differs
 * slightly, so figures are close to, not identical with, ADM's.
 *
 * <p>Not thread-safe (one forward at a time per instance). Activations use the channels-last layout by default
 * ({@link #setChannelsLast}); results agree with NCHW to float32 rounding.
 */
public final class FidInceptionV3 extends Module {
    public static final int POOL_DIM = 2048;
    public static final int SPATIAL_DIM = 17 * 17 * 7;
    public static final int NUM_CLASSES = 1008;
    public static final int INPUT_SIZE = 299;
    public static final String WEIGHTS_FILE_NAME = "pt_inception-2015-12-05-6726825d.pth";
    public static final String WEIGHTS_URL = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + WEIGHTS_FILE_NAME;
    static final double BN_EPS = 1e-3;

    /** pool3 (N x 2048), spatial (N x 2023) and unbiased logits (N x 1008), float32. */
    public record Features(Tensor pool3, Tensor spatial, Tensor logits) {}

    /** torchvision's BasicConv2d: conv (no bias), BatchNorm(eps=0.001), ReLU. */
    static final class BasicConv extends Module {
        final Tensor weight;
        final Tensor bnWeight;
        final Tensor bnBias;
        final Tensor runningMean;
        final Tensor runningVar;
        final long[] stride;
        final long[] padding;
        Tensor foldedWeight;
        Tensor foldedBias;

        BasicConv(int in, int out, int kh, int kw, int stride, int ph, int pw) {
            this.stride = new long[] {stride, stride};
            this.padding = new long[] {ph, pw};
            Module conv = new Module();
            weight = Tensors.zeros(ScalarType.Float, out, in, kh, kw);
            conv.register_parameter("weight", weight, false);
            Module bn = new Module();
            bnWeight = Tensors.zeros(ScalarType.Float, out);
            bnBias = Tensors.zeros(ScalarType.Float, out);
            runningMean = Tensors.zeros(ScalarType.Float, out);
            runningVar = Tensors.zeros(ScalarType.Float, out);
            bn.register_parameter("weight", bnWeight, false);
            bn.register_parameter("bias", bnBias, false);
            bn.register_buffer("running_mean", runningMean);
            bn.register_buffer("running_var", runningVar);
            register_module("conv", conv);
            register_module("bn", bn);
        }

        BasicConv(int in, int out, int k) {
            this(in, out, k, k, 1, 0, 0);
        }

        /** Folds BN into the convolution (call outside PointerScopes; the folded tensors live with the module). */
        void fold() {
            Tensor scale = bnWeight.div(runningVar.add(new Scalar(BN_EPS)).sqrt());
            foldedWeight = weight.mul(scale.view(-1, 1, 1, 1)).contiguous();
            foldedBias = bnBias.sub(runningMean.mul(scale)).contiguous();
        }

        Tensor forward(Tensor x) {
            Tensor y = torch.conv2d(x, foldedWeight, new TensorOptional(foldedBias), stride, padding, new long[] {1, 1}, 1);
            return y.relu_(); // the method form returns y itself; torch.relu_(y) would return an unowned alias of it
        }

        /** The unfolded reference computation (conv, batch_norm in eval mode, relu): for tests. */
        Tensor forwardUnfolded(Tensor x) {
            Tensor y = torch.conv2d(x, weight, new TensorOptional(), stride, padding, new long[] {1, 1}, 1);
            y = torch.batch_norm(y, new TensorOptional(bnWeight), new TensorOptional(bnBias), new TensorOptional(runningMean),
                    new TensorOptional(runningVar), false, 0.1, BN_EPS, false);
            return torch.relu(y);
        }
    }

    static Tensor avgPool3(Tensor x) {
        return torch.avg_pool2d(x, new long[] {3, 3}, new long[] {1, 1}, new long[] {1, 1}, false, false, new LongOptional());
    }

    static Tensor maxPool3(Tensor x, long stride, long pad) {
        return torch.max_pool2d(x, new long[] {3, 3}, new long[] {stride, stride}, new long[] {pad, pad}, new long[] {1, 1}, false);
    }

    static Tensor cat(Tensor... parts) {
        return torch.cat(new TensorVector(parts), 1);
    }

    /** A block of named BasicConv branches. */
    abstract static class Block extends Module {
        final List<BasicConv> convs = new ArrayList<>();

        BasicConv conv(String name, BasicConv c) {
            register_module(name, c);
            convs.add(c);
            return c;
        }

        abstract Tensor forward(Tensor x);

        /** Output channels for a given input (for shape checks). */
        abstract int outChannels();
    }

    /** FIDInceptionA (Mixed_5b/c/d): pool branch averages without the zero padding. */
    static final class InceptionA extends Block {
        final BasicConv b1, b5_1, b5_2, d1, d2, d3, pool;
        final int poolFeatures;

        InceptionA(int in, int poolFeatures) {
            this.poolFeatures = poolFeatures;
            b1 = conv("branch1x1", new BasicConv(in, 64, 1));
            b5_1 = conv("branch5x5_1", new BasicConv(in, 48, 1));
            b5_2 = conv("branch5x5_2", new BasicConv(48, 64, 5, 5, 1, 2, 2));
            d1 = conv("branch3x3dbl_1", new BasicConv(in, 64, 1));
            d2 = conv("branch3x3dbl_2", new BasicConv(64, 96, 3, 3, 1, 1, 1));
            d3 = conv("branch3x3dbl_3", new BasicConv(96, 96, 3, 3, 1, 1, 1));
            pool = conv("branch_pool", new BasicConv(in, poolFeatures, 1));
        }

        @Override
        Tensor forward(Tensor x) {
            return cat(b1.forward(x), b5_2.forward(b5_1.forward(x)), d3.forward(d2.forward(d1.forward(x))), pool.forward(avgPool3(x)));
        }

        @Override
        int outChannels() {
            return 64 + 64 + 96 + poolFeatures;
        }
    }

    /** InceptionB (Mixed_6a), unpatched. */
    static final class InceptionB extends Block {
        final BasicConv b3, d1, d2, d3;
        final int in;

        InceptionB(int in) {
            this.in = in;
            b3 = conv("branch3x3", new BasicConv(in, 384, 3, 3, 2, 0, 0));
            d1 = conv("branch3x3dbl_1", new BasicConv(in, 64, 1));
            d2 = conv("branch3x3dbl_2", new BasicConv(64, 96, 3, 3, 1, 1, 1));
            d3 = conv("branch3x3dbl_3", new BasicConv(96, 96, 3, 3, 2, 0, 0));
        }

        @Override
        Tensor forward(Tensor x) {
            return cat(b3.forward(x), d3.forward(d2.forward(d1.forward(x))), maxPool3(x, 2, 0));
        }

        @Override
        int outChannels() {
            return 384 + 96 + in;
        }
    }

    /** FIDInceptionC (Mixed_6b-e): 7x1 / 1x7 factorised convolutions; pool branch without the zero padding. */
    static final class InceptionC extends Block {
        final BasicConv b1, s1, s2, s3, d1, d2, d3, d4, d5, pool;
        /** Set on Mixed_6d: its branch1x1 output is {@code mixed_6/conv}, the sFID features. */
        Tensor lastBranch1x1;
        boolean keepBranch1x1;

        InceptionC(int in, int c7) {
            b1 = conv("branch1x1", new BasicConv(in, 192, 1));
            s1 = conv("branch7x7_1", new BasicConv(in, c7, 1));
            s2 = conv("branch7x7_2", new BasicConv(c7, c7, 1, 7, 1, 0, 3));
            s3 = conv("branch7x7_3", new BasicConv(c7, 192, 7, 1, 1, 3, 0));
            d1 = conv("branch7x7dbl_1", new BasicConv(in, c7, 1));
            d2 = conv("branch7x7dbl_2", new BasicConv(c7, c7, 7, 1, 1, 3, 0));
            d3 = conv("branch7x7dbl_3", new BasicConv(c7, c7, 1, 7, 1, 0, 3));
            d4 = conv("branch7x7dbl_4", new BasicConv(c7, c7, 7, 1, 1, 3, 0));
            d5 = conv("branch7x7dbl_5", new BasicConv(c7, 192, 1, 7, 1, 0, 3));
            pool = conv("branch_pool", new BasicConv(in, 192, 1));
        }

        @Override
        Tensor forward(Tensor x) {
            Tensor a = b1.forward(x);
            if (keepBranch1x1) lastBranch1x1 = a;
            Tensor b = s3.forward(s2.forward(s1.forward(x)));
            Tensor c = d5.forward(d4.forward(d3.forward(d2.forward(d1.forward(x)))));
            return cat(a, b, c, pool.forward(avgPool3(x)));
        }

        @Override
        int outChannels() {
            return 768;
        }
    }

    /** InceptionD (Mixed_7a), unpatched. */
    static final class InceptionD extends Block {
        final BasicConv b3_1, b3_2, s1, s2, s3, s4;
        final int in;

        InceptionD(int in) {
            this.in = in;
            b3_1 = conv("branch3x3_1", new BasicConv(in, 192, 1));
            b3_2 = conv("branch3x3_2", new BasicConv(192, 320, 3, 3, 2, 0, 0));
            s1 = conv("branch7x7x3_1", new BasicConv(in, 192, 1));
            s2 = conv("branch7x7x3_2", new BasicConv(192, 192, 1, 7, 1, 0, 3));
            s3 = conv("branch7x7x3_3", new BasicConv(192, 192, 7, 1, 1, 3, 0));
            s4 = conv("branch7x7x3_4", new BasicConv(192, 192, 3, 3, 2, 0, 0));
        }

        @Override
        Tensor forward(Tensor x) {
            return cat(b3_2.forward(b3_1.forward(x)), s4.forward(s3.forward(s2.forward(s1.forward(x)))), maxPool3(x, 2, 0));
        }

        @Override
        int outChannels() {
            return 320 + 192 + in;
        }
    }

    /** FIDInceptionE_1 (Mixed_7b: average pool without padding) and FIDInceptionE_2 (Mixed_7c: max pool). */
    static final class InceptionE extends Block {
        final BasicConv b1, b3_1, b3_2a, b3_2b, d1, d2, d3a, d3b, pool;
        final boolean maxPool;

        InceptionE(int in, boolean maxPool) {
            this.maxPool = maxPool;
            b1 = conv("branch1x1", new BasicConv(in, 320, 1));
            b3_1 = conv("branch3x3_1", new BasicConv(in, 384, 1));
            b3_2a = conv("branch3x3_2a", new BasicConv(384, 384, 1, 3, 1, 0, 1));
            b3_2b = conv("branch3x3_2b", new BasicConv(384, 384, 3, 1, 1, 1, 0));
            d1 = conv("branch3x3dbl_1", new BasicConv(in, 448, 1));
            d2 = conv("branch3x3dbl_2", new BasicConv(448, 384, 3, 3, 1, 1, 1));
            d3a = conv("branch3x3dbl_3a", new BasicConv(384, 384, 1, 3, 1, 0, 1));
            d3b = conv("branch3x3dbl_3b", new BasicConv(384, 384, 3, 1, 1, 1, 0));
            pool = conv("branch_pool", new BasicConv(in, 192, 1));
        }

        @Override
        Tensor forward(Tensor x) {
            Tensor a = b1.forward(x);
            Tensor t = b3_1.forward(x);
            Tensor b = cat(b3_2a.forward(t), b3_2b.forward(t));
            Tensor u = d2.forward(d1.forward(x));
            Tensor c = cat(d3a.forward(u), d3b.forward(u));
            Tensor p = maxPool ? maxPool3(x, 1, 1) : avgPool3(x);
            return cat(a, b, c, pool.forward(p));
        }

        @Override
        int outChannels() {
            return 320 + 768 + 768 + 192;
        }
    }

    final BasicConv conv1a, conv2a, conv2b, conv3b, conv4a;
    final InceptionA mixed5b, mixed5c, mixed5d;
    final InceptionB mixed6a;
    final InceptionC mixed6b, mixed6c, mixed6d, mixed6e;
    final InceptionD mixed7a;
    final InceptionE mixed7b, mixed7c;
    final Tensor fcWeight;
    final Tensor fcBias;
    private final List<BasicConv> allConvs = new ArrayList<>();
    private volatile boolean ready;
    private volatile boolean channelsLast = true;

    /** An unloaded network (all weights zero): use {@link #load(Path)} or {@link #loadStateDict(Map)}. */
    public FidInceptionV3() {
        conv1a = stem("Conv2d_1a_3x3", new BasicConv(3, 32, 3, 3, 2, 0, 0));
        conv2a = stem("Conv2d_2a_3x3", new BasicConv(32, 32, 3));
        conv2b = stem("Conv2d_2b_3x3", new BasicConv(32, 64, 3, 3, 1, 1, 1));
        conv3b = stem("Conv2d_3b_1x1", new BasicConv(64, 80, 1));
        conv4a = stem("Conv2d_4a_3x3", new BasicConv(80, 192, 3));
        mixed5b = block("Mixed_5b", new InceptionA(192, 32));
        mixed5c = block("Mixed_5c", new InceptionA(256, 64));
        mixed5d = block("Mixed_5d", new InceptionA(288, 64));
        mixed6a = block("Mixed_6a", new InceptionB(288));
        mixed6b = block("Mixed_6b", new InceptionC(768, 128));
        mixed6c = block("Mixed_6c", new InceptionC(768, 160));
        mixed6d = block("Mixed_6d", new InceptionC(768, 160));
        mixed6e = block("Mixed_6e", new InceptionC(768, 192));
        mixed7a = block("Mixed_7a", new InceptionD(768));
        mixed7b = block("Mixed_7b", new InceptionE(1280, false));
        mixed7c = block("Mixed_7c", new InceptionE(2048, true));
        Module fc = new Module();
        fcWeight = Tensors.zeros(ScalarType.Float, NUM_CLASSES, POOL_DIM);
        fcBias = Tensors.zeros(ScalarType.Float, NUM_CLASSES);
        fc.register_parameter("weight", fcWeight, false);
        fc.register_parameter("bias", fcBias, false);
        register_module("fc", fc);
        mixed6d.keepBranch1x1 = true;
    }

    private BasicConv stem(String name, BasicConv c) {
        register_module(name, c);
        allConvs.add(c);
        return c;
    }

    private <B extends Block> B block(String name, B b) {
        register_module(name, b);
        allConvs.addAll(b.convs);
        return b;
    }

    /** Reads pytorch-fid's weights (a torch state dict; safetensors / npz with the same keys also work). */
    public static FidInceptionV3 load(Path file) throws IOException {
        Engine.init();
        try {
            return loadOutsideScopes(file);
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static FidInceptionV3 loadOutsideScopes(Path file) {
        return NativeScopes.outsideScopes(() -> {
            FidInceptionV3 net = new FidInceptionV3();
            try (PointerScope scope = new PointerScope()) {
                Map<String, Tensor> sd;
                try {
                    sd = WeightFiles.readStateDict(file, null);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                net.loadStateDict(sd, file.toString());
            }
            return net;
        });
    }

    /**
     * Parameters and buffers by key (sharing storage), in PyTorch's state-dict order (each module's parameters, then
     * its buffers): pytorch-fid's state dict minus the num_batches_tracked counters.
     */
    public LinkedHashMap<String, Tensor> stateDict() {
        LinkedHashMap<String, Tensor> params = io.udit.engine.StateDicts.parameters(this);
        LinkedHashMap<String, Tensor> buffers = io.udit.engine.StateDicts.buffers(this);
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        List<String> keys = new ArrayList<>(params.keySet());
        for (int i = 0; i < keys.size(); i++) {
            out.put(keys.get(i), params.get(keys.get(i)));
            String prefix = prefix(keys.get(i));
            if (i + 1 == keys.size() || !prefix(keys.get(i + 1)).equals(prefix)) {
                for (var e : buffers.entrySet()) if (prefix(e.getKey()).equals(prefix)) out.put(e.getKey(), e.getValue());
            }
        }
        for (var e : buffers.entrySet()) out.putIfAbsent(e.getKey(), e.getValue());
        return out;
    }

    private static String prefix(String key) {
        int dot = key.lastIndexOf('.');
        return dot < 0 ? "" : key.substring(0, dot);
    }

    public void loadStateDict(Map<String, Tensor> source) {
        loadStateDict(source, "state dict");
    }

    /**
     * Copies weights in. Keys must match pytorch-fid's exactly (no renaming); {@code *.bn.num_batches_tracked} is
     * optional. Anything else that does not match is listed in one {@link EvalException}.
     */
    public void loadStateDict(Map<String, Tensor> source, String what) {
        Map<String, Tensor> own = stateDict();
        List<String> missing = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        List<String> wrong = new ArrayList<>();
        for (var e : own.entrySet()) {
            Tensor t = source.get(e.getKey());
            if (t == null) missing.add(e.getKey());
            else if (!Arrays.equals(Tensors.shape(t), Tensors.shape(e.getValue())))
                wrong.add(e.getKey() + " " + Tensors.shapeString(t) + " (expected " + Tensors.shapeString(e.getValue()) + ")");
            else if (!t.is_floating_point()) wrong.add(e.getKey() + " is " + t.scalar_type().intern() + ", not floating point");
        }
        for (String k : source.keySet()) {
            if (!own.containsKey(k) && !(k.endsWith(".bn.num_batches_tracked") && own.containsKey(k.replace("num_batches_tracked", "running_mean")))) {
                unexpected.add(k);
            }
        }
        if (!missing.isEmpty() || !unexpected.isEmpty() || !wrong.isEmpty()) {
            StringBuilder sb = new StringBuilder(what + " is not the FID Inception-v3 (pytorch-fid " + WEIGHTS_FILE_NAME + ") state dict:");
            if (missing.size() == own.size()) sb.append(" none of its ").append(own.size()).append(" keys are present");
            else if (!missing.isEmpty()) sb.append("\n  missing keys (").append(missing.size()).append("): ").append(head(missing));
            if (!unexpected.isEmpty()) sb.append("\n  unexpected keys (").append(unexpected.size()).append("): ").append(head(unexpected));
            if (!wrong.isEmpty()) sb.append("\n  wrong shape or type (").append(wrong.size()).append("): ").append(head(wrong));
            throw new EvalException(sb.toString());
        }
        try (NoGradGuard g = new NoGradGuard()) {
            for (var e : own.entrySet()) e.getValue().copy_(source.get(e.getKey()));
        }
        prepare();
    }

    private static String head(List<String> keys) {
        return keys.size() <= 8 ? String.join(", ", keys) : String.join(", ", keys.subList(0, 8)) + ", ...";
    }

    /** Folds BatchNorm into the convolutions; runs on a scope-free thread so the folded weights live with the module. */
    private void prepare() {
        NativeScopes.outsideScopes(() -> {
            try (NoGradGuard g = new NoGradGuard()) {
                for (BasicConv c : allConvs) c.fold();
            }
            return Boolean.TRUE;
        });
        ready = true;
    }

    /**
     * pool3, spatial and logits of a batch of images: N x H x W x 3, uint8 or float in [0, 255] (the ADM batch format).
     * Call inside a PointerScope (and InferenceMode for speed); the outputs belong to the caller's scope.
     */
    public Features forward(Tensor imagesNhwc) {
        long[] s = Tensors.shape(imagesNhwc);
        if (s.length != 4 || s[3] != 3) throw new EvalException("images must be N x H x W x 3, got shape " + Arrays.toString(s));
        Tensor x = imagesNhwc.to(ScalarType.Float).permute(0, 3, 1, 2).div(new Scalar(255.0));
        return forwardNormalizedInput(preprocess(x));
    }

    /** pytorch-fid's input transform of N x 3 x H x W images in [0, 1]: bilinear resize to 299 (align_corners=False), then 2x - 1. */
    public static Tensor preprocess(Tensor nchw01) {
        Tensor x = nchw01.contiguous();
        if (x.size(2) != INPUT_SIZE || x.size(3) != INPUT_SIZE) {
            x = torch.upsample_bilinear2d(x, new long[] {INPUT_SIZE, INPUT_SIZE}, false);
        }
        return x.mul(new Scalar(2.0)).sub(new Scalar(1.0));
    }

    /** Whether activations use the channels-last (NHWC) memory layout inside the network (default: yes, faster with oneDNN). */
    public void setChannelsLast(boolean on) {
        this.channelsLast = on;
    }

    /** The network on N x 3 x 299 x 299 input already in [-1, 1]. */
    public Features forwardNormalizedInput(Tensor input) {
        if (!ready) throw new IllegalStateException("FID Inception weights are not loaded");
        Tensor x = channelsLast ? input.contiguous(torch.MemoryFormat.ChannelsLast) : input.contiguous();
        Tensor y = conv2b.forward(conv2a.forward(conv1a.forward(x)));
        y = maxPool3(y, 2, 0);
        y = conv4a.forward(conv3b.forward(y));
        y = maxPool3(y, 2, 0);
        y = mixed5d.forward(mixed5c.forward(mixed5b.forward(y)));
        y = mixed6a.forward(y);
        y = mixed6c.forward(mixed6b.forward(y));
        y = mixed6d.forward(y);
        Tensor branch = mixed6d.lastBranch1x1;
        mixed6d.lastBranch1x1 = null;
        Tensor spatial = branch.narrow(1, 0, 7).permute(0, 2, 3, 1).reshape(x.size(0), -1);
        y = mixed6e.forward(y);
        y = mixed7c.forward(mixed7b.forward(mixed7a.forward(y)));
        Tensor pool = y.mean(new long[] {2, 3}, false, new ScalarTypeOptional());
        Tensor logits = pool.mm(fcWeight.t());
        return new Features(pool, spatial, logits);
    }
}
