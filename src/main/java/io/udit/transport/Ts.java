package io.udit.transport;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Scalar-tensor arithmetic in the operand order SiT writes it, and the shape helpers SiT's transport uses. */
final class Ts {
    private Ts() {}

    static Tensor mul(double a, Tensor t) {
        return t.mul(new Scalar(a));
    }

    static Tensor add(Tensor t, double a) {
        return t.add(new Scalar(a));
    }

    /** {@code a - t}. */
    static Tensor rsub(double a, Tensor t) {
        return torch.rsub(t, new Scalar(a));
    }

    /** {@code a / t}. */
    static Tensor rdiv(double a, Tensor t) {
        return torch.full_like(t, new Scalar(a)).div(t);
    }

    static Tensor square(Tensor t) {
        return t.mul(t);
    }

    /** SiT's {@code expand_t_like_x}: t (B) viewed as (B, 1, ..., 1) with x's rank. */
    static Tensor expandLike(Tensor t, Tensor x) {
        if (t.dim() == x.dim()) return t;
        long[] shape = new long[(int) x.dim()];
        java.util.Arrays.fill(shape, 1);
        shape[0] = t.size(0);
        return t.reshape(shape);
    }

    /** {@code mean_flat}: the mean over every dimension but the first. */
    static Tensor meanFlat(Tensor t) {
        long[] dims = new long[(int) t.dim() - 1];
        for (int i = 0; i < dims.length; i++) dims[i] = i + 1;
        return t.mean(dims, false, new ScalarTypeOptional());
    }

    /** B copies of the time {@code t} in x's dtype and device: SiT's {@code th.ones(B).to(x) * t}. */
    static Tensor times(Tensor x, double t) {
        return torch.full(new long[] {x.size(0)}, new Scalar(t), x.options());
    }
}
