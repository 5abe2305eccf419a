package io.udit.eval;

import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The small image classifier behind the class-fidelity and classifier-Fréchet metrics: a stride-1 stem and stride-2
 * stages of 3x3 conv + GroupNorm + ReLU, global average pooling to a {@value #FEATURES}-d feature vector, and a linear
 * head. Works for any channel count and resolution (the number of stride-2 stages is chosen so the last map is about
 * 4 x 4). GroupNorm rather than BatchNorm, so training and evaluation compute the same function.
 *
 * <p>State-dict keys: {@code stem.conv.weight/bias}, {@code stem.norm.weight/bias}, {@code stages.<i>.conv...},
 * {@code stages.<i>.norm...}, {@code head.weight/bias}.
 */
public final class SmallCnn extends Module {
    public static final int FEATURES = 128;
    /** Changes whenever the architecture does, so stale cached weights are never reused. */
    public static final String ARCH = "smallcnn-v1";

    private final int channels;
    private final int resolution;
    private final int numClasses;
    private final List<ConvNormRelu> blocks = new ArrayList<>();
    private final Tensor headWeight;
    private final Tensor headBias;

    /** conv k x k (bias) + GroupNorm + ReLU. */
    static final class ConvNormRelu extends Module {
        final Tensor weight;
        final Tensor bias;
        final Tensor normWeight;
        final Tensor normBias;
        final long stride;
        final int groups;

        ConvNormRelu(int in, int out, long stride) {
            this.stride = stride;
            this.groups = Math.min(8, out);
            Module conv = new Module();
            weight = Tensors.zeros(ScalarType.Float, out, in, 3, 3);
            bias = Tensors.zeros(ScalarType.Float, out);
            conv.register_parameter("weight", weight);
            conv.register_parameter("bias", bias);
            Module norm = new Module();
            normWeight = Tensors.zeros(ScalarType.Float, out);
            normBias = Tensors.zeros(ScalarType.Float, out);
            norm.register_parameter("weight", normWeight);
            norm.register_parameter("bias", normBias);
            register_module("conv", conv);
            register_module("norm", norm);
        }

        Tensor forward(Tensor x) {
            Tensor y = torch.conv2d(x, weight, new TensorOptional(bias), new long[] {stride, stride}, new long[] {1, 1},
                    new long[] {1, 1}, 1);
            y = torch.group_norm(y, groups, new TensorOptional(normWeight), new TensorOptional(normBias), 1e-5, false);
            return torch.relu(y);
        }
    }

    public SmallCnn(int channels, int resolution, int numClasses) {
        if (channels < 1 || channels > 64) throw new EvalException("classifier: unsupported channel count " + channels);
        if (resolution < 4 || resolution > 1024) throw new EvalException("classifier: unsupported resolution " + resolution);
        if (numClasses < 2) throw new EvalException("classifier: need at least 2 classes, got " + numClasses);
        this.channels = channels;
        this.resolution = resolution;
        this.numClasses = numClasses;
        int[] widths = {16, 32, 64, 128, 128, 128, 128, 128};
        ConvNormRelu stem = new ConvNormRelu(channels, widths[0], 1);
        register_module("stem", stem);
        blocks.add(stem);
        Module stages = new Module();
        int n = stageCount(resolution);
        for (int i = 0; i < n; i++) {
            ConvNormRelu b = new ConvNormRelu(widths[i], widths[i + 1], 2);
            stages.register_module(Integer.toString(i), b);
            blocks.add(b);
        }
        register_module("stages", stages);
        if (widths[n] != FEATURES) throw new IllegalStateException("feature width " + widths[n]);
        Module head = new Module();
        headWeight = Tensors.zeros(ScalarType.Float, numClasses, FEATURES);
        headBias = Tensors.zeros(ScalarType.Float, numClasses);
        head.register_parameter("weight", headWeight);
        head.register_parameter("bias", headBias);
        register_module("head", head);
    }

    /** Stride-2 stages so that the last feature map is about 4 x 4 (at least 3, at most 7). */
    static int stageCount(int resolution) {
        int n = 0;
        int r = resolution;
        while (r > 6 && n < 7) {
            r = (r + 1) / 2;
            n++;
        }
        return Math.max(3, n);
    }

    public int channels() {
        return channels;
    }

    public int resolution() {
        return resolution;
    }

    public int numClasses() {
        return numClasses;
    }

    /** PyTorch's default initialisation (uniform +-1/sqrt(fan_in) for conv/linear weights and biases), GN = (1, 0). */
    public void initialize(long seed) {
        Generator g = torch.make_generator_cpu(seed);
        try (NoGradGuard guard = new NoGradGuard()) {
            for (ConvNormRelu b : blocks) {
                double bound = 1.0 / Math.sqrt(b.weight.size(1) * 9.0);
                b.weight.uniform_(-bound, bound, new GeneratorOptional(g));
                b.bias.uniform_(-bound, bound, new GeneratorOptional(g));
                b.normWeight.fill_(Tensors.scalar(1.0));
                b.normBias.fill_(Tensors.scalar(0.0));
            }
            double bound = 1.0 / Math.sqrt(FEATURES);
            headWeight.uniform_(-bound, bound, new GeneratorOptional(g));
            headBias.uniform_(-bound, bound, new GeneratorOptional(g));
        }
    }

    /** N x C x H x W images in [-1, 1] to N x {@value #FEATURES} features (global average of the last map). */
    public Tensor features(Tensor x) {
        Tensor y = x;
        for (ConvNormRelu b : blocks) y = b.forward(y);
        return y.mean(new long[] {2, 3}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
    }

    /** Logits from features. */
    public Tensor logits(Tensor features) {
        return torch.linear(features, headWeight, new TensorOptional(headBias));
    }

    /** Parameters by key, sharing storage with the model. */
    public LinkedHashMap<String, Tensor> stateDict() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        StringTensorDict params = named_parameters(true);
        for (long i = 0; i < params.size(); i++) out.put(params.get(i).key().getString(), new Tensor(params.get(i).value()));
        return out;
    }

    /** Copies weights in; every key must exist with the right shape (the message lists what does not match). */
    public void loadStateDict(Map<String, Tensor> source) {
        Map<String, Tensor> own = stateDict();
        List<String> problems = new ArrayList<>();
        for (var e : own.entrySet()) {
            Tensor t = source.get(e.getKey());
            if (t == null) problems.add("missing " + e.getKey());
            else if (!Arrays.equals(Tensors.shape(t), Tensors.shape(e.getValue())))
                problems.add(e.getKey() + " has shape " + Tensors.shapeString(t) + ", expected " + Tensors.shapeString(e.getValue()));
            else if (!t.is_floating_point()) problems.add(e.getKey() + " is not floating point");
        }
        for (String k : source.keySet()) if (!own.containsKey(k)) problems.add("unexpected " + k);
        if (!problems.isEmpty()) throw new EvalException("classifier weights do not match the architecture: " + String.join("; ", problems));
        try (NoGradGuard guard = new NoGradGuard()) {
            for (var e : own.entrySet()) e.getValue().copy_(source.get(e.getKey()));
        }
    }

    public List<Tensor> parameterList() {
        return new ArrayList<>(stateDict().values());
    }
}
