package io.udit.model;

import io.udit.engine.NativeScopes;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One U-DiT block = two adaLN-Zero transformer layers (key suffixes 1 and 2):
 * x += gate_msa * attn(modulate(LN(x))); x += gate_mlp * mlp(modulate(LN(x))).
 */
public final class UDiTBlock extends Hooked.Conditioned {
    final DownsampledAttention[] attn = new DownsampledAttention[2];
    final FeedForward[] mlp = new FeedForward[2];
    final Layers.Linear[] adaLN = new Layers.Linear[2];

    public UDiTBlock(int width, int resolution, int factor, UDiTConfig c) {
        for (int k = 0; k < 2; k++) {
            String s = Integer.toString(k + 1);
            attn[k] = new DownsampledAttention(width, c.numHeads(), resolution, factor, c).hook("attn" + s, null);
            mlp[k] = FeedForward.create(width, c).hook("mlp" + s, null);
            adaLN[k] = new Layers.Linear(width, 6 * width, true).hook(null, "adaLN linear");
            // norm1k / norm2k are LayerNorms without parameters: nothing to register
            register_module("attn" + s, attn[k]);
            register_module("mlp" + s, mlp[k]);
            register_module("adaLN_modulation" + s, Layers.sequence(null, adaLN[k]));
        }
    }

    @Override
    public Tensor forward(Tensor x, Tensor c) {
        Tensor siluC = torch.silu(c);
        for (int k = 0; k < 2; k++) {
            Tensor[] m = Ops.split(adaLN[k].call(siluC), 6, 1); // shift, scale, gate of the attention, then of the mlp
            x = residual(x, attn[k], m[0], m[1], m[2]);
            x = residual(x, mlp[k], m[3], m[4], m[5]);
        }
        return x;
    }

    /** x + gate * f(modulate(LN(x), shift, scale)), in its own scope: its temporaries are freed before the next one. */
    private static Tensor residual(Tensor x, Hooked.Unary f, Tensor shift, Tensor scale, Tensor gate) {
        return NativeScopes.scoped(() -> gatedResidual(x, gate, f.call(modulate(x, shift, scale))));
    }

    private static Tensor modulate(Tensor x, Tensor shift, Tensor scale) {
        return Hooks.step("layernorm+modulate", () -> Ops.modulate2d(Ops.channelLayerNorm(x), shift, scale));
    }

    private static Tensor gatedResidual(Tensor x, Tensor gate, Tensor y) {
        return Hooks.step("gate+residual", () -> Ops.gatedResidual2d(x, gate, y));
    }

    void prepare(Form form) {
        for (FeedForward f : mlp) f.prepare(form);
    }

    void useAttentionKernel(AttentionKernel kernel) {
        for (DownsampledAttention a : attn) a.kernel = kernel;
    }
}
