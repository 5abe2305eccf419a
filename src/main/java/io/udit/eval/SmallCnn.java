package io.udit.eval;

import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
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
 * The small image classifier behind the class-fidelity and classifier-Fréchet metrics (VGG-like): a 3x3 conv stem,
 * stages of 2x2 max pool + 3x3 conv + BatchNorm + ReLU, global average pooling to a {@value #FEATURES}-d feature
 * vector, and a linear head. Works for any channel count and resolution (the number of stages is chosen so the last
 * map is about 4 x 4). Outside training mode ({@link #setTraining}) BatchNorm uses its running statistics, so a sample's
 * features do not depend on the rest of its batch.
 *
 * <p>State-dict keys: {@code stem.conv.weight/bias}, {@code stem.norm.weight/bias}, {@code stages.<i>.<j>.conv...},
 * {@code stages.<i>.<j>.norm...}, {@code head.weight/bias}.
 */
public final class SmallCnn extends Module {
    public static final int FEATURES = 128;
    /** Changes whenever the architecture does, so stale cached weights are never reused. */
    public static final String ARCH = "smallcnn-v3";

    private final int channels;
    private final int resolution;
    private final int numClasses;
    private final int baseWidth;
    private final int convsPerStage;
    private volatile boolean training;
    private final List<ConvNormRelu> blocks = new ArrayList<>();
    private final Tensor headWeight;
    private final Tensor headBias;

    /** [2x2 max pool] + conv 3x3 (bias) + BatchNorm + ReLU. */
    static final class ConvNormRelu extends Module {
        final Tensor weight;
        final Tensor bias;
        final Tensor normWeight;
        final Tensor normBias;
        final Tensor runningMean;
        final Tensor runningVar;
        final boolean poolFirst;

        ConvNormRelu(int in, int out, boolean poolFirst) {
            this.poolFirst = poolFirst;
            Module conv = new Module();
            weight = Tensors.zeros(ScalarType.Float, out, in, 3, 3);
            bias = Tensors.zeros(ScalarType.Float, out);
            conv.register_parameter("weight", weight);
            conv.register_parameter("bias", bias);
            Module norm = new Module();
            normWeight = Tensors.zeros(ScalarType.Float, out);
            normBias = Tensors.zeros(ScalarType.Float, out);
            runningMean = Tensors.zeros(ScalarType.Float, out);
            runningVar = Tensors.zeros(ScalarType.Float, out);
            norm.register_parameter("weight", normWeight);
            norm.register_parameter("bias", normBias);
            norm.register_buffer("running_mean", runningMean);
            norm.register_buffer("running_var", runningVar);
            register_module("conv", conv);
            register_module("norm", norm);
        }

        Tensor forward(Tensor x, boolean training) {
            Tensor y = poolFirst ? torch.max_pool2d(x, new long[] {2, 2}, new long[] {2, 2}, new long[] {0, 0}, new long[] {1, 1}, true) : x;
            y = torch.conv2d(y, weight, new TensorOptional(bias), new long[] {1, 1}, new long[] {1, 1}, new long[] {1, 1}, 1);
            y = torch.batch_norm(y, new TensorOptional(normWeight), new TensorOptional(normBias), new TensorOptional(runningMean),
                    new TensorOptional(runningVar), training, 0.1, 1e-5, false);
            return torch.relu(y);
        }
    }

    /** The default shape: base width 16, one convolution per stage. */
    public SmallCnn(int channels, int resolution, int numClasses) {
        this(channels, resolution, numClasses, 16, 1);
    }

    /**
     * @param baseWidth channels of the stem; each stride-2 stage doubles them, up to {@value #FEATURES}
     * @param convsPerStage 3x3 convolutions per stage (each stage starts with a 2x2 max pool)
     */
    public SmallCnn(int channels, int resolution, int numClasses, int baseWidth, int convsPerStage) {
        if (channels < 1 || channels > 64) throw new EvalException("classifier: unsupported channel count " + channels);
        if (resolution < 4 || resolution > 1024) throw new EvalException("classifier: unsupported resolution " + resolution);
        if (numClasses < 2) throw new EvalException("classifier: need at least 2 classes, got " + numClasses);
        if (baseWidth < 8 || baseWidth > FEATURES) throw new EvalException("classifier: base width must be 8 to " + FEATURES);
        if (convsPerStage < 1 || convsPerStage > 4) throw new EvalException("classifier: 1 to 4 convolutions per stage");
        this.channels = channels;
        this.resolution = resolution;
        this.numClasses = numClasses;
        this.baseWidth = baseWidth;
        this.convsPerStage = convsPerStage;
        ConvNormRelu stem = new ConvNormRelu(channels, baseWidth, false);
        register_module("stem", stem);
        blocks.add(stem);
        Module stages = new Module();
        int n = stageCount(resolution);
        int width = baseWidth;
        for (int i = 0; i < n; i++) {
            int out = Math.min(FEATURES, width * 2);
            if (i == n - 1) out = FEATURES;
            Module stage = new Module();
            for (int j = 0; j < convsPerStage; j++) {
                ConvNormRelu b = new ConvNormRelu(j == 0 ? width : out, out, j == 0);
                stage.register_module(Integer.toString(j), b);
                blocks.add(b);
            }
            stages.register_module(Integer.toString(i), stage);
            width = out;
        }
        register_module("stages", stages);
        Module head = new Module();
        headWeight = Tensors.zeros(ScalarType.Float, numClasses, FEATURES);
        headBias = Tensors.zeros(ScalarType.Float, numClasses);
        head.register_parameter("weight", headWeight);
        head.register_parameter("bias", headBias);
        register_module("head", head);
    }

    /**
     * Training mode: BatchNorm normalises with batch statistics and updates its running statistics. Off by default
     * (evaluation: running statistics). Kept in Java: libtorch's virtual Module::train is not callable on Java subclasses.
     */
    public void setTraining(boolean on) {
        this.training = on;
    }

    /** Architecture id for cache keys. */
    public String arch() {
        return ARCH + "-w" + baseWidth + "-c" + convsPerStage;
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
                b.runningMean.fill_(Tensors.scalar(0.0));
                b.runningVar.fill_(Tensors.scalar(1.0));
            }
            double bound = 1.0 / Math.sqrt(FEATURES);
            headWeight.uniform_(-bound, bound, new GeneratorOptional(g));
            headBias.uniform_(-bound, bound, new GeneratorOptional(g));
        }
    }

    /** N x C x H x W images in [-1, 1] to N x {@value #FEATURES} features (global average of the last map). */
    public Tensor features(Tensor x) {
        Tensor y = x;
        boolean t = training;
        for (ConvNormRelu b : blocks) y = b.forward(y, t);
        return y.mean(new long[] {2, 3}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
    }

    /** Logits from features. */
    public Tensor logits(Tensor features) {
        return torch.linear(features, headWeight, new TensorOptional(headBias));
    }

    /** Parameters by key, sharing storage with the model. */
    public LinkedHashMap<String, Tensor> stateDict() {
        return io.udit.engine.StateDicts.of(this);
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

    /** The trainable parameters (not the BatchNorm running statistics). */
    public List<Tensor> parameterList() {
        List<Tensor> out = new ArrayList<>();
        out.addAll(io.udit.engine.StateDicts.parameters(this).values());
        return out;
    }
}
