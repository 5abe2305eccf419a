package io.udit.model;

import io.udit.engine.NativeScopes;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * U-DiT: a U-Net of transformer blocks whose attention runs on downsampled tokens. Widths D, 2D, 4D on three
 * levels; one (timestep + label) conditioning per width; the level-1 decoder stays at width 2D and, like the final
 * layer, is conditioned on the level-2 embedding. State-dict keys are the reference's.
 */
public final class UDiT extends Backbone {
    private final UDiTConfig config;
    final Layers.Conv2d xEmbedder;
    final TimestepEmbedder[] tEmbedder = new TimestepEmbedder[3];
    final LabelEmbedder[] yEmbedder = new LabelEmbedder[3];
    final UDiTBlock[][] levels = new UDiTBlock[5][];
    final Resample down12, down23, up32, up21;
    final Layers.Conv2d reduce2, reduce1, output;
    final FinalLayer finalLayer;

    /** The profile section of the convolutions outside the blocks. */
    static final String CONVS = "embed + resample + output convs";

    static final String[] LEVEL_NAMES = {"encoder_level_1", "encoder_level_2", "latent", "decoder_level_2", "decoder_level_1"};

    public UDiT(UDiTConfig c, long seed) {
        this.config = c;
        int d = c.hiddenSize();
        xEmbedder = new Layers.Conv2d(c.gridInChannels(), d, 3, true).hook("x_embedder", CONVS);
        Module xe = new Module();
        xe.register_module("proj", xEmbedder);
        register_module("x_embedder", xe);
        for (int i = 0; i < 3; i++) {
            int w = d << i;
            tEmbedder[i] = new TimestepEmbedder(w).hook("t_embedder_" + (i + 1), "conditioning");
            yEmbedder[i] = new LabelEmbedder(c.numClasses(), w, c.classDropoutProb()).hook("y_embedder_" + (i + 1), "conditioning");
            register_module("t_embedder_" + (i + 1), tEmbedder[i]);
            register_module("y_embedder_" + (i + 1), yEmbedder[i]);
        }
        Resample[] resamplers = new Resample[4];
        resamplers[0] = Resample.down(d).hook("down1_2", CONVS);
        resamplers[1] = Resample.down(2 * d).hook("down2_3", CONVS);
        resamplers[2] = Resample.up(4 * d).hook("up3_2", CONVS);
        resamplers[3] = Resample.up(2 * d).hook("up2_1", CONVS);
        reduce2 = new Layers.Conv2d(4 * d, 2 * d, 1, true).hook("reduce_chan_level2", CONVS);
        reduce1 = new Layers.Conv2d(2 * d, 2 * d, 1, true).hook("reduce_chan_level1", CONVS);
        for (int level = 0; level < 5; level++) {
            levels[level] = new UDiTBlock[c.depth().get(level)];
            UDiTBlock[] blocks = levels[level];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = new UDiTBlock(c.width(level), c.resolution(level), c.downFactor().get(level), c)
                        .hook(LEVEL_NAMES[level] + "." + i, null);
            }
            register_module(LEVEL_NAMES[level], Layers.sequence(blocks));
            // registration order follows the reference's __init__
            switch (level) {
                case 0 -> register_module("down1_2", resamplers[0]);
                case 1 -> register_module("down2_3", resamplers[1]);
                case 2 -> {
                    register_module("up3_2", resamplers[2]);
                    register_module("reduce_chan_level2", reduce2);
                }
                case 3 -> {
                    register_module("up2_1", resamplers[3]);
                    register_module("reduce_chan_level1", reduce1);
                }
                default -> { }
            }
        }
        down12 = resamplers[0];
        down23 = resamplers[1];
        up32 = resamplers[2];
        up21 = resamplers[3];
        output = new Layers.Conv2d(2 * d, 2 * d, 3, true).hook("output", CONVS);
        register_module("output", output);
        finalLayer = new FinalLayer(2 * d, c.gridOutChannels()).hook("final_layer", CONVS);
        register_module("final_layer", finalLayer);
        initialize(torch.make_generator_cpu(seed));
        toDevice(io.udit.engine.Engine.device());
    }

    @Override
    public UDiTConfig config() {
        return config;
    }

    /** The reference's initialize_weights, rule by parameter name. */
    private void initialize(Generator g) {
        initializeByName((name, p) -> {
            if (name.endsWith(".bias")) {
                p.zero_();
            } else if (name.endsWith("logit_scale")) {
                p.fill_(new Scalar(Math.log(10.0)));
            } else if (name.contains("adaLN_modulation") || name.startsWith("final_layer.out_proj")) {
                p.zero_();
            } else if (name.equals("x_embedder.proj.weight")) {
                long[] s = io.udit.engine.Tensors.shape(p);
                Layers.Init.xavierUniform(p, s[1] * s[2] * s[3], s[0], g); // as a Linear on the flattened kernel
            } else if (name.contains("embedding_table") || name.matches("t_embedder_\\d\\.mlp\\.[02]\\.weight")) {
                Layers.Init.normal(p, 0.02, g);
            } else {
                Layers.Init.xavierUniform(p, g);
            }
        });
    }

    @Override
    protected void prepareForm(Form form) {
        for (UDiTBlock[] level : levels) for (UDiTBlock b : level) b.prepare(form);
    }

    @Override
    public Tensor forward(Tensor x, Tensor t, Tensor y) {
        return forward(x, t, y, y, y);
    }

    /**
     * Forward with one label tensor per conditioning width: the reference drops labels independently in each of its
     * three label embedders during training; pass the same tensor three times for a shared draw.
     */
    public Tensor forward(Tensor x, Tensor t, Tensor y1, Tensor y2, Tensor y3) {
        Tensor input = x;
        x = onDevice(x);
        t = onDevice(t);
        y1 = onDevice(y1);
        y2 = y2 == y1 ? y1 : onDevice(y2);
        y3 = y3 == y1 ? y1 : onDevice(y3);
        return backTo(network(x, t, y1, y2, y3), input);
    }

    /** The same forward with a probe attached to the module hooks (see Hooks). */
    public Tensor forward(Tensor x, Tensor t, Tensor y1, Tensor y2, Tensor y3, Probe probe) {
        return Hooks.observe(probe, () -> forward(x, t, y1, y2, y3));
    }

    private Tensor network(Tensor x, Tensor t, Tensor y1, Tensor y2, Tensor y3) {
        // channels-last (NHWC memory) end to end: oneDNN runs the 1x1 and depthwise convs far faster on it than on
        // NCHW, and the channel LayerNorm and token rearrangements become copies of contiguous channel rows
        int u = config.pixelUnshuffle();
        Tensor grid = u == 1 ? x : torch.pixel_unshuffle(x, u); // u x u pixel blocks into channels (our extension)
        Tensor h = xEmbedder.call(grid.contiguous(torch.MemoryFormat.ChannelsLast));
        Tensor[] c = {condition(0, t, y1), condition(1, t, y2), condition(2, t, y3)};
        ActivationCheckpoints calls = blockCalls();
        Tensor enc1 = runLevel(0, h, c[0], calls);
        Tensor enc2 = runLevel(1, down12.call(enc1), c[1], calls);
        Tensor lat = runLevel(2, down23.call(enc2), c[2], calls);
        Tensor dec2 = runLevel(3, reduce2.call(torch.cat(new TensorVector(up32.call(lat), enc2), 1)), c[1], calls);
        Tensor dec1 = runLevel(4, reduce1.call(torch.cat(new TensorVector(up21.call(dec2), enc1), 1)), c[1], calls);
        Tensor y = finalLayer.call(output.call(dec1), c[1]).contiguous();
        // channel groups of u^2 back into pixels: eps channels first, then the variance channels, as without unshuffle
        return u == 1 ? y : torch.pixel_shuffle(y, u).contiguous();
    }

    /** The timestep + label embedding of width D << level. */
    private Tensor condition(int level, Tensor t, Tensor y) {
        return tEmbedder[level].call(t).add(yEmbedder[level].call(y));
    }

    private Tensor runLevel(int level, Tensor x, Tensor c, ActivationCheckpoints calls) {
        for (UDiTBlock block : levels[level]) {
            Tensor in = x;
            // each block in its own scope: what it computed and no graph holds (without autograd, or checkpointed:
            // all but its output) is freed before the next block runs
            x = NativeScopes.scoped(() -> calls.call(block, in, c));
        }
        return x;
    }

    /** Needs a non-empty last level: the checkpointed backward starts from the last block's output. */
    @Override
    public void setActivationCheckpointing(boolean on) {
        if (on && levels[4].length == 0) throw new IllegalArgumentException("activation checkpointing needs depth[4] > 0");
        super.setActivationCheckpointing(on);
    }

    @Override
    protected void useAttentionKernel(AttentionKernel kernel) {
        for (UDiTBlock[] level : levels) for (UDiTBlock b : level) b.useAttentionKernel(kernel);
    }

    /** Chooses how every rep FFN computes in train form (for parity tests: BRANCHES is the reference's arithmetic). */
    public void setFeedForwardTrainPath(RepFeedForward.TrainPath path) {
        for (UDiTBlock[] level : levels) {
            for (UDiTBlock b : level) {
                for (FeedForward f : b.mlp) if (f instanceof RepFeedForward r) r.setTrainPath(path);
            }
        }
    }

    /** The RoPE table an attention layer of the given block uses (for parity tests). */
    public RopeTable ropeTable(int level, int block, int layer) {
        DownsampledAttention a = levels[level][block].attn[layer];
        int res = config.resolution(level) / a.factor;
        return a.ropeTable(res * res);
    }

    /** The folded FFN of a block layer, null when not in eval form or not a rep FFN (for parity tests). */
    public RepFeedForward.Folded foldedFeedForward(int level, int block, int layer) {
        FeedForward f = levels[level][block].mlp[layer];
        return f instanceof RepFeedForward r ? r.folded() : null;
    }
}
