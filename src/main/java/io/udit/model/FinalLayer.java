package io.udit.model;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Channel LayerNorm, adaLN shift/scale from c, 3x3 conv to the output channels (keys out_proj, adaLN_modulation.1). */
public final class FinalLayer extends Hooked.Conditioned {
    final Layers.Conv2d outProj;
    final Layers.Linear adaLN;

    public FinalLayer(int width, int outChannels) {
        outProj = new Layers.Conv2d(width, outChannels, 3, true);
        adaLN = new Layers.Linear(width, 2 * width, true);
        register_module("out_proj", outProj);
        register_module("adaLN_modulation", Layers.sequence(null, adaLN));
    }

    @Override
    public Tensor forward(Tensor x, Tensor c) {
        Tensor[] mod = Ops.split(adaLN.forward(torch.silu(c)), 2, 1);
        return outProj.forward(Ops.modulate2d(Ops.channelLayerNorm(x), mod[0], mod[1]));
    }
}
