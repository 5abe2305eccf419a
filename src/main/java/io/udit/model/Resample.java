package io.udit.model;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** The U-Net's resolution changes: 3x3 conv (no bias) then pixel-unshuffle(2) down or pixel-shuffle(2) up (key body.0). */
public final class Resample extends Hooked.Unary {
    final Layers.Conv2d conv;
    final boolean down;

    private Resample(int in, int out, boolean down) {
        this.conv = new Layers.Conv2d(in, out, 3, false);
        this.down = down;
        register_module("body", Layers.sequence(conv));
    }

    /** C -> C/2 channels, then unshuffle: 2C channels at half resolution. */
    public static Resample down(int channels) {
        return new Resample(channels, channels / 2, true);
    }

    /** C -> 2C channels, then shuffle: C/2 channels at double resolution. */
    public static Resample up(int channels) {
        return new Resample(channels, channels * 2, false);
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor y = conv.forward(x);
        return down ? torch.pixel_unshuffle(y, 2) : torch.pixel_shuffle(y, 2);
    }
}
