package io.udit.model;

import io.udit.engine.Tensors;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * DiT (Peebles and Xie): patchify, fixed 2-D sin-cos positions, N adaLN-Zero transformer blocks, final adaLN layer,
 * unpatchify. State-dict keys are facebookresearch/DiT's (x_embedder.proj, t_embedder.mlp, y_embedder.embedding_table,
 * pos_embed, blocks.i.{attn.qkv, attn.proj, mlp.fc1, mlp.fc2, adaLN_modulation.1}, final_layer.{linear, adaLN_modulation.1}).
 */
public final class DiT extends Backbone {
    private final DiTConfig config;
    final Tensor posEmbed; // (1, T, D), fixed, stored in the state dict like the reference's frozen Parameter
    final Layers.Conv2d patchEmbed;
    final TimestepEmbedder tEmbedder;
    final LabelEmbedder yEmbedder;
    final Block[] blocks;
    final Layers.Linear finalAdaLN, finalLinear;

    /** One adaLN-Zero block: multi-head self-attention and a 4x MLP with tanh GELU. */
    static final class Block extends Hooked.Conditioned {
        final int heads, headDim;
        final Layers.Linear qkv, proj, fc1, fc2, adaLN;
        volatile AttentionKernel kernel = AttentionKernel.FUSED;

        Block(int d, int heads, int mlpHidden) {
            this.heads = heads;
            this.headDim = d / heads;
            qkv = new Layers.Linear(d, 3 * d, true);
            proj = new Layers.Linear(d, d, true);
            Module attn = new Module();
            attn.register_module("qkv", qkv);
            attn.register_module("proj", proj);
            register_module("attn", attn);
            fc1 = new Layers.Linear(d, mlpHidden, true);
            fc2 = new Layers.Linear(mlpHidden, d, true);
            Module mlp = new Module();
            mlp.register_module("fc1", fc1);
            mlp.register_module("fc2", fc2);
            register_module("mlp", mlp);
            adaLN = new Layers.Linear(d, 6 * d, true);
            register_module("adaLN_modulation", Layers.sequence(null, adaLN));
        }

        @Override
        public Tensor forward(Tensor x, Tensor c) {
            Tensor[] m = Ops.split(adaLN.forward(torch.silu(c)), 6, 1);
            x = x.add(m[2].unsqueeze(1).mul(attention(modulate(Ops.tokenLayerNorm(x), m[0], m[1]))));
            Tensor hdn = torch.gelu(fc1.forward(modulate(Ops.tokenLayerNorm(x), m[3], m[4])), "tanh");
            return x.add(m[5].unsqueeze(1).mul(fc2.forward(hdn)));
        }

        Tensor attention(Tensor x) {
            long b = x.size(0), n = x.size(1), d = x.size(2);
            Tensor t = qkv.forward(x).reshape(b, n, 3, heads, headDim).permute(2, 0, 3, 1, 4);
            Tensor[] qkv3 = Ops.unbind(t, 0);
            Tensor q = qkv3[0], k = qkv3[1], v = qkv3[2];
            double scale = 1.0 / Math.sqrt(headDim);
            Tensor o;
            if (kernel == AttentionKernel.FUSED) {
                o = torch.scaled_dot_product_attention(q, k, v, new TensorOptional(), 0.0, false, new DoubleOptional(scale), false);
            } else {
                o = torch.matmul(Ops.softmaxLast(torch.matmul(q.mul(new Scalar(scale)), k.transpose(-2, -1))), v);
            }
            return proj.forward(o.transpose(1, 2).reshape(b, n, d));
        }
    }

    public DiT(DiTConfig c, long seed) {
        this.config = c;
        int d = c.hiddenSize();
        posEmbed = sinCosPositions(d, c.gridSize());
        register_parameter("pos_embed", posEmbed, false);
        patchEmbed = new Layers.Conv2d(c.inChannels(), d, c.patchSize(), true); // applied with stride p below
        Module xe = new Module();
        xe.register_module("proj", patchEmbed);
        register_module("x_embedder", xe);
        tEmbedder = new TimestepEmbedder(d);
        register_module("t_embedder", tEmbedder);
        yEmbedder = new LabelEmbedder(c.numClasses(), d, c.classDropoutProb());
        register_module("y_embedder", yEmbedder);
        blocks = new Block[c.depth()];
        for (int i = 0; i < blocks.length; i++) blocks[i] = new Block(d, c.numHeads(), c.mlpHidden()).hook("blocks." + i, null);
        register_module("blocks", Layers.sequence(blocks));
        finalLinear = new Layers.Linear(d, c.patchSize() * c.patchSize() * c.outChannels(), true);
        finalAdaLN = new Layers.Linear(d, 2 * d, true);
        Module fl = new Module();
        fl.register_module("linear", finalLinear);
        fl.register_module("adaLN_modulation", Layers.sequence(null, finalAdaLN));
        register_module("final_layer", fl);
        initialize(torch.make_generator_cpu(seed));
        toDevice(io.udit.engine.Engine.device());
    }

    @Override
    public DiTConfig config() {
        return config;
    }

    private void initialize(Generator g) {
        initializeByName((name, p) -> {
            if (name.equals("pos_embed")) {
                return; // fixed table
            } else if (name.endsWith(".bias")) {
                p.zero_();
            } else if (name.contains("adaLN_modulation") || name.startsWith("final_layer.linear")) {
                p.zero_();
            } else if (name.equals("x_embedder.proj.weight")) {
                long[] s = Tensors.shape(p);
                Layers.Init.xavierUniform(p, s[1] * s[2] * s[3], s[0], g);
            } else if (name.contains("embedding_table") || name.matches("t_embedder\\.mlp\\.[02]\\.weight")) {
                Layers.Init.normal(p, 0.02, g);
            } else {
                Layers.Init.xavierUniform(p, g);
            }
        });
    }

    @Override
    protected void prepareForm(Form form) {
        // nothing to fold
    }

    @Override
    protected void useAttentionKernel(AttentionKernel kernel) {
        for (Block b : blocks) b.kernel = kernel;
    }

    @Override
    public Tensor forward(Tensor x, Tensor t, Tensor y) {
        return backTo(network(onDevice(x), onDevice(t), onDevice(y)), x);
    }

    private Tensor network(Tensor x, Tensor t, Tensor y) {
        int p = config.patchSize(), g = config.gridSize(), c = config.outChannels();
        long n = x.size(0);
        Tensor h = Hooks.around("x_embedder", null, () -> patchify(x).add(posEmbed));
        Tensor cond = tEmbedder.forward(t).add(yEmbedder.forward(y));
        ActivationCheckpoints calls = blockCalls();
        for (Block block : blocks) {
            Tensor in = h;
            h = io.udit.engine.NativeScopes.scoped(() -> calls.call(block, in, cond));
        }
        Tensor[] m = Ops.split(finalAdaLN.forward(torch.silu(cond)), 2, 1);
        h = finalLinear.forward(modulate(Ops.tokenLayerNorm(h), m[0], m[1]));
        // unpatchify: (N, T, p*p*C) -> (N, C, H, W) via 'nhwpqc -> nchpwq'
        return h.reshape(n, g, g, p, p, c).permute(0, 5, 1, 3, 2, 4).reshape(n, c, (long) g * p, (long) g * p);
    }

    /** p x p patches to tokens: (N, C, H, W) -> (N, T, D). */
    private Tensor patchify(Tensor x) {
        int p = config.patchSize();
        return torch.conv2d(x, patchEmbed.weight, new TensorOptional(patchEmbed.bias), new long[] {p, p},
                new long[] {0, 0}, new long[] {1, 1}, 1).flatten(2, -1).transpose(1, 2);
    }

    static Tensor modulate(Tensor x, Tensor shift, Tensor scale) {
        return x.mul(scale.add(new Scalar(1.0)).unsqueeze(1)).add(shift.unsqueeze(1));
    }

    /** The reference's get_2d_sincos_pos_embed in float64, stored as float32 (1, G*G, D). */
    static Tensor sinCosPositions(int dim, int grid) {
        int quarter = dim / 4;
        double[] omega = new double[quarter];
        for (int i = 0; i < quarter; i++) omega[i] = 1.0 / Math.pow(10000.0, i / (double) quarter);
        float[] out = new float[grid * grid * dim];
        for (int row = 0; row < grid; row++) {
            for (int col = 0; col < grid; col++) {
                int base = (row * grid + col) * dim;
                for (int i = 0; i < quarter; i++) {
                    double a = col * omega[i]; // first half: the column (meshgrid puts w first)
                    double b = row * omega[i];
                    out[base + i] = (float) Math.sin(a);
                    out[base + quarter + i] = (float) Math.cos(a);
                    out[base + 2 * quarter + i] = (float) Math.sin(b);
                    out[base + 3 * quarter + i] = (float) Math.cos(b);
                }
            }
        }
        return Tensors.floats(out, 1, (long) grid * grid, dim);
    }
}
