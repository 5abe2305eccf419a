package io.udit.model;

import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Sinusoidal timestep features (256 = 128 cos + 128 sin) through Linear, SiLU, Linear (keys mlp.0, mlp.2). */
public final class TimestepEmbedder extends Hooked.Unary {
    public static final int FREQUENCY_SIZE = 256;

    final Layers.Linear fc1;
    final Layers.Linear fc2;
    private final Tensor frequencies; // (128,) float32, exp(-ln(10000) * i / 128), computed as the reference does

    public TimestepEmbedder(int width) {
        fc1 = new Layers.Linear(FREQUENCY_SIZE, width, true);
        fc2 = new Layers.Linear(width, width, true);
        register_module("mlp", Layers.sequence(fc1, null, fc2));
        int half = FREQUENCY_SIZE / 2;
        frequencies = torch.arange(new Scalar(0), new Scalar(half), Tensors.options(ScalarType.Float))
                .mul(new Scalar(-Math.log(10000.0))).div(new Scalar(half)).exp();
    }

    /** [cos(t f), sin(t f)] for a 1-D tensor of (possibly fractional) timesteps. */
    public Tensor frequencyEmbedding(Tensor t) {
        Tensor f = frequencies.device().is_cuda() == t.device().is_cuda() ? frequencies : frequencies.to(t.device(), ScalarType.Float);
        Tensor args = t.to(ScalarType.Float).unsqueeze(1).mul(f.unsqueeze(0));
        return torch.cat(new TensorVector(torch.cos(args), torch.sin(args)), -1);
    }

    @Override
    public Tensor forward(Tensor t) {
        return fc2.forward(torch.silu(fc1.forward(frequencyEmbedding(t))));
    }
}
