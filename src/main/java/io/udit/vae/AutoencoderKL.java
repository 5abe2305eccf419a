package io.udit.vae;

import io.udit.engine.Engine;
import io.udit.engine.NativeScopes;
import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * diffusers' {@code AutoencoderKL} (the Stable Diffusion VAE) in inference form: {@code encoder}, {@code decoder},
 * {@code quant_conv}, {@code post_quant_conv}, with the released state-dict keys. {@link #moments} gives the
 * diagonal Gaussian posterior's parameters, {@link #decode} maps (unscaled) latents to images. Call both under
 * InferenceMode (the {@link Vae} facade does); the module holds no per-call state, so several threads may use it at
 * once.
 */
public final class AutoencoderKL extends Module {
    private final AutoencoderKLConfig config;
    final VaeBlocks.Encoder encoder;
    final VaeBlocks.Decoder decoder;
    final VaeBlocks.Conv quantConv, postQuantConv;

    /** A model with all-zero weights; load weights with {@link VaeWeights#load} or {@link #randomize}. */
    public AutoencoderKL(AutoencoderKLConfig config) {
        Engine.init();
        this.config = config;
        int z = config.latentChannels();
        encoder = register_module("encoder", new VaeBlocks.Encoder(config));
        decoder = register_module("decoder", new VaeBlocks.Decoder(config));
        quantConv = config.useQuantConv() ? register_module("quant_conv", VaeBlocks.Conv.same(2 * z, 2 * z, 1)) : null;
        postQuantConv = config.usePostQuantConv() ? register_module("post_quant_conv", VaeBlocks.Conv.same(z, z, 1)) : null;
    }

    public AutoencoderKLConfig config() {
        return config;
    }

    /** Images (N, in_channels, H, W) in [-1, 1] to posterior moments (N, 2 * latent, H / f, W / f): mean then log-variance. */
    public Tensor moments(Tensor images) {
        checkInput(images, config.inChannels(), "images");
        int f = config.downsampleFactor();
        if (images.size(2) % f != 0 || images.size(3) % f != 0)
            throw new VaeException("image size " + images.size(2) + "x" + images.size(3)
                    + " is not a multiple of the VAE's downsampling factor " + f);
        return NativeScopes.scoped(() -> {
            Tensor h = encoder.forward(images);
            if (quantConv != null) h = quantConv.forward(h);
            return h.contiguous();
        });
    }

    /** Unscaled latents z (N, latent, h, w) to images (N, out_channels, h * f, w * f), not clamped. */
    public Tensor decode(Tensor z) {
        checkInput(z, config.latentChannels(), "latents");
        return NativeScopes.scoped(() -> {
            Tensor h = postQuantConv != null ? postQuantConv.forward(z.contiguous(torch.MemoryFormat.ChannelsLast)) : z;
            return decoder.forward(h).contiguous();
        });
    }

    private static void checkInput(Tensor x, int channels, String what) {
        if (x.dim() != 4 || x.size(1) != channels)
            throw new VaeException(what + " must have shape (N, " + channels + ", H, W), got " + Tensors.shapeString(x));
        if (x.size(2) < 1 || x.size(3) < 1 || x.size(0) < 1) throw new VaeException("empty " + what + " " + Tensors.shapeString(x));
    }

    /** Parameters by their diffusers names, in state_dict() order; tensors share storage with the model. */
    public LinkedHashMap<String, Tensor> stateDict() {
        return io.udit.engine.StateDicts.parameters(this);
    }

    public long parameterCount() {
        long n = 0;
        for (Tensor t : stateDict().values()) n += t.numel();
        return n;
    }

    /** Name -> shape of every parameter. */
    public LinkedHashMap<String, long[]> shapes() {
        LinkedHashMap<String, long[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : stateDict().entrySet()) out.put(e.getKey(), Tensors.shape(e.getValue()));
        return out;
    }

    /**
     * Random weights (for tests and benchmarks): PyTorch's default init bounds for conv/linear weights and biases
     * (uniform +-1/sqrt(fan_in)), group-norm scales 1 + U(-0.2, 0.2) and shifts U(-0.1, 0.1).
     */
    public AutoencoderKL randomize(long seed) {
        Generator g = torch.make_generator_cpu(seed);
        GeneratorOptional go = new GeneratorOptional(g);
        LinkedHashMap<String, Tensor> sd = stateDict();
        try (NoGradGuard ng = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : sd.entrySet()) {
                String k = e.getKey();
                Tensor t = e.getValue();
                boolean norm = k.contains("norm");
                if (norm && k.endsWith(".weight")) {
                    t.uniform_(0.8, 1.2, go);
                } else if (norm) {
                    t.uniform_(-0.1, 0.1, go);
                } else {
                    String wkey = k.endsWith(".bias") ? k.substring(0, k.length() - 5) + ".weight" : k;
                    long[] ws = Tensors.shape(sd.get(wkey));
                    long fanIn = 1;
                    for (int i = 1; i < ws.length; i++) fanIn *= ws[i];
                    double b = 1.0 / Math.sqrt(fanIn);
                    t.uniform_(-b, b, go);
                }
            }
        }
        return this;
    }

    @Override
    public String toString() {
        return "AutoencoderKL" + Arrays.toString(config.blockOutChannels().toArray()) + " (" + parameterCount() + " parameters)";
    }
}
