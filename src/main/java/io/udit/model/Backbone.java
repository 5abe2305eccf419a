package io.udit.model;

import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What U-DiT and DiT share: a denoiser eps(x, t, y) with reference state-dict names, two forms (train / eval),
 * and strict state-dict loading.
 */
public abstract class Backbone extends Module {
    private volatile Form form = Form.TRAIN;
    private org.bytedeco.pytorch.Device device = new org.bytedeco.pytorch.Device("cpu");
    private boolean onCpu = true;
    private volatile AttentionKernel kernelOverride;
    private volatile boolean checkpointing;
    private volatile Consumer<List<Tensor>> blockGradientSink;

    public abstract ModelConfig config();

    /** One network evaluation: x (N, C, H, W), t (N,) timesteps, y (N,) labels (the null class for unconditional). */
    public abstract Tensor forward(Tensor x, Tensor t, Tensor y);

    /** The same forward with a probe attached to the module hooks: named intermediates, profile sections (see Hooks). */
    public final Tensor forward(Tensor x, Tensor t, Tensor y, Probe probe) {
        return Hooks.observe(probe, () -> forward(x, t, y));
    }

    /**
     * Moves the network to a device (Engine.device(): the one switch between CPU and GPU builds). The parameters keep
     * their identity (libtorch moves their data), so every Java handle stays valid.
     */
    public Backbone toDevice(org.bytedeco.pytorch.Device d) {
        if (d.is_cuda() || !onCpu) {
            to(d, false);
            device = d;
            onCpu = !d.is_cuda();
            prepareForm(form);
        }
        return this;
    }

    public org.bytedeco.pytorch.Device device() {
        return device;
    }

    /**
     * Inputs move to the network's device and the output comes back to the caller's: the diffusion process,
     * samplers and data stay device-agnostic (on a CPU build this is a no-op).
     */
    protected final Tensor onDevice(Tensor t) {
        return onCpu || t == null ? t : t.to(device, t.scalar_type().intern(), false, false, new org.bytedeco.pytorch.MemoryFormatOptional());
    }

    protected final Tensor backTo(Tensor out, Tensor like) {
        return onCpu ? out : out.to(like.device(), out.scalar_type().intern(), false, false, new org.bytedeco.pytorch.MemoryFormatOptional());
    }

    /** Subclasses rebuild anything that depends on the form (folded FFN weights). */
    protected abstract void prepareForm(Form form);

    public Form form() {
        return form;
    }

    /** Switches form. Never modifies a trained weight; EVAL folds from the current weights every time. */
    public void setForm(Form form) {
        prepareForm(form);
        this.form = form;
    }

    /**
     * The attention kernel in use: libtorch's fused SDPA in both forms (much faster than the reference's explicit
     * matmul-softmax-matmul on CPU, with its own backward), unless overridden; MATH is the reference's arithmetic,
     * kept for parity tests.
     */
    public AttentionKernel attentionKernel() {
        AttentionKernel k = kernelOverride;
        return k != null ? k : AttentionKernel.FUSED;
    }

    /** Forces one attention kernel in both forms (null restores the default). */
    public void setAttentionKernel(AttentionKernel kernel) {
        this.kernelOverride = kernel;
        useAttentionKernel(attentionKernel());
    }

    /** Subclasses hand the kernel to their attention layers. */
    protected abstract void useAttentionKernel(AttentionKernel kernel);

    /**
     * Activation checkpointing per block in training (off by default): each block keeps only its input during the
     * forward and is recomputed in the backward, which trades one extra block forward for the activation memory.
     * Same losses and gradients (see ActivationCheckpoints); no effect without autograd (sampling, evaluation).
     */
    public void setActivationCheckpointing(boolean on) {
        this.checkpointing = on;
    }

    /**
     * Receives, during the backward of a checkpointed forward, each block's trainable parameters as soon as their
     * gradients are complete (a block's parameters serve that block only), so that an optimizer can update them and
     * drop their gradients while the backward goes on: the step then holds the gradients of the blocks not yet
     * reached instead of the whole network's. The parameters outside the blocks get theirs when the backward ends.
     * Null (the default): none; no effect without checkpointing.
     */
    public void setBlockGradientSink(Consumer<List<Tensor>> sink) {
        this.blockGradientSink = sink;
    }

    /** The block-call policy for one forward pass. */
    protected final ActivationCheckpoints blockCalls() {
        return new ActivationCheckpoints(checkpointing, blockGradientSink);
    }

    /** Parameters (and buffers) by their reference names, in registration order; tensors share storage with the model. */
    public LinkedHashMap<String, Tensor> stateDict() {
        return io.udit.engine.StateDicts.of(this);
    }

    /** The state dict with every tensor on the CPU (for writing files; a copy only when the network is on a GPU). */
    public LinkedHashMap<String, Tensor> stateDictOnCpu() {
        LinkedHashMap<String, Tensor> sd = stateDict();
        if (onCpu) return sd;
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        for (var e : sd.entrySet()) out.put(e.getKey(), e.getValue().to(new org.bytedeco.pytorch.Device("cpu"), e.getValue().scalar_type().intern()));
        return out;
    }

    /** The trainable parameters in registration order. */
    public List<Tensor> trainableParameters() {
        List<Tensor> out = new ArrayList<>();
        for (Tensor t : stateDict().values()) if (t.requires_grad()) out.add(t);
        return out;
    }

    public long parameterCount() {
        long n = 0;
        for (Tensor t : stateDict().values()) n += t.numel();
        return n;
    }

    /**
     * Copies a state dict into the model. Every key must match exactly: missing, unexpected and wrongly shaped keys
     * are all reported in one message. Values of another float dtype (fp16, bf16, fp64) are converted to fp32.
     */
    public void loadStateDict(Map<String, Tensor> source) {
        Map<String, Tensor> own = stateDict();
        List<String> missing = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        List<String> wrongShape = new ArrayList<>();
        List<String> wrongType = new ArrayList<>();
        for (var e : own.entrySet()) {
            Tensor src = source.get(e.getKey());
            if (src == null) {
                missing.add(e.getKey());
            } else if (!Arrays.equals(Tensors.shape(src), Tensors.shape(e.getValue()))) {
                wrongShape.add(e.getKey() + " (file " + Tensors.shapeString(src) + ", model " + Tensors.shapeString(e.getValue()) + ")");
            } else if (!src.is_floating_point()) {
                wrongType.add(e.getKey() + " (" + src.scalar_type().intern() + ")");
            }
        }
        for (String k : source.keySet()) if (!own.containsKey(k)) unexpected.add(k);
        if (!missing.isEmpty() || !unexpected.isEmpty() || !wrongShape.isEmpty() || !wrongType.isEmpty()) {
            throw new StateDictMismatchException(config().family(), missing, unexpected, wrongShape, wrongType);
        }
        try (NoGradGuard g = new NoGradGuard()) {
            for (var e : own.entrySet()) e.getValue().copy_(source.get(e.getKey()));
        }
        prepareForm(form); // refold from the new weights
    }

    /** Copies another model's weights of the same architecture (e.g. into an EMA copy). */
    public void copyWeightsFrom(Backbone other) {
        loadStateDict(other.stateDict());
    }

    /** Every parameter name that failed to match, by kind. */
    public static final class StateDictMismatchException extends IllegalArgumentException {
        public final List<String> missing, unexpected, wrongShape, wrongType;

        StateDictMismatchException(String family, List<String> missing, List<String> unexpected, List<String> wrongShape,
                                   List<String> wrongType) {
            super(describe(family, missing, unexpected, wrongShape, wrongType));
            this.missing = List.copyOf(missing);
            this.unexpected = List.copyOf(unexpected);
            this.wrongShape = List.copyOf(wrongShape);
            this.wrongType = List.copyOf(wrongType);
        }

        private static String describe(String family, List<String> missing, List<String> unexpected,
                                       List<String> wrongShape, List<String> wrongType) {
            StringBuilder sb = new StringBuilder("state dict does not match the " + family + " model:");
            if (!missing.isEmpty()) sb.append("\n  missing keys (").append(missing.size()).append("): ").append(String.join(", ", missing));
            if (!unexpected.isEmpty()) sb.append("\n  unexpected keys (").append(unexpected.size()).append("): ").append(String.join(", ", unexpected));
            if (!wrongShape.isEmpty()) sb.append("\n  wrong shapes (").append(wrongShape.size()).append("): ").append(String.join(", ", wrongShape));
            if (!wrongType.isEmpty()) sb.append("\n  not floating point (").append(wrongType.size()).append("): ").append(String.join(", ", wrongType));
            return sb.toString();
        }
    }

    /** Applies an initialiser to each parameter by name, under a NoGradGuard. */
    protected void initializeByName(java.util.function.BiConsumer<String, Tensor> rule) {
        try (NoGradGuard g = new NoGradGuard()) {
            for (var e : stateDict().entrySet()) rule.accept(e.getKey(), e.getValue());
        }
    }
}
