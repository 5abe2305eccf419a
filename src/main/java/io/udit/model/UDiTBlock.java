package io.udit.model;

import io.udit.engine.NativeScopes;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

/**
 * One U-DiT block = two adaLN-Zero transformer layers (key suffixes 1 and 2):
 * x += gate_msa * attn(modulate(LN(x))); x += gate_mlp * mlp(modulate(LN(x))).
 */
public final class UDiTBlock extends Module {
    final DownsampledAttention[] attn = new DownsampledAttention[2];
    final FeedForward[] mlp = new FeedForward[2];
    final Layers.Linear[] adaLN = new Layers.Linear[2];

    public UDiTBlock(int width, int resolution, int factor, UDiTConfig c) {
        for (int k = 0; k < 2; k++) {
            String s = Integer.toString(k + 1);
            attn[k] = new DownsampledAttention(width, c.numHeads(), resolution, factor, c);
            mlp[k] = FeedForward.create(width, c);
            adaLN[k] = new Layers.Linear(width, 6 * width, true);
            // norm1k / norm2k are LayerNorms without parameters: nothing to register
            register_module("attn" + s, attn[k]);
            register_module("mlp" + s, mlp[k]);
            register_module("adaLN_modulation" + s, Layers.sequence(null, adaLN[k]));
        }
    }

    public Tensor forward(Tensor x, Tensor c, Form form, DownsampledAttention.Kernel kernel, Probe probe) {
        Tensor siluC = org.bytedeco.pytorch.global.torch.silu(c);
        for (int k = 0; k < 2; k++) {
            String s = Integer.toString(k + 1);
            final int kk = k;
            Tensor[] mod = probe.time("adaLN linear", () -> Ops.split(adaLN[kk].forward(siluC), 6, 1));
            final Tensor in = x;
            final int layer = k;
            // each half-layer in its own scope: its temporaries are freed before the next one starts
            x = NativeScopes.scoped(() -> {
                Tensor normed = probe.time("layernorm+modulate", () -> Ops.modulate2d(Ops.channelLayerNorm(in), mod[0], mod[1]));
                Tensor a = attn[layer].forward(normed, kernel, probe.child("attn" + s));
                probe.record("attn" + s, a);
                return probe.time("gate+residual", () -> Ops.gatedResidual2d(in, mod[2], a));
            });
            final Tensor mid = x;
            x = NativeScopes.scoped(() -> {
                Tensor normed = probe.time("layernorm+modulate", () -> Ops.modulate2d(Ops.channelLayerNorm(mid), mod[3], mod[4]));
                Tensor m = mlp[layer].forward(normed, form, probe);
                probe.record("mlp" + s, m);
                return probe.time("gate+residual", () -> Ops.gatedResidual2d(mid, mod[5], m));
            });
        }
        return x;
    }

    void prepare(Form form) {
        for (FeedForward f : mlp) f.prepare(form);
    }
}
