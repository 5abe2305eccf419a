package io.udit.transport;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** SiT's ICPlan (rectified flow): alpha_t = t, sigma_t = 1 - t, u_t = x1 - x0. */
public final class LinearPath extends FlowPath {
    @Override
    public Coefficient alpha(Tensor t) {
        return new Coefficient(t, torch.full_like(t, new Scalar(1.0)));
    }

    @Override
    public Coefficient sigma(Tensor t) {
        return new Coefficient(Ts.rsub(1, t), torch.full_like(t, new Scalar(-1.0)));
    }

    /** 1 / t (+inf at t = 0). */
    @Override
    public Tensor dAlphaAlphaRatio(Tensor t) {
        return Ts.rdiv(1, t);
    }

    @Override
    public String name() {
        return "Linear";
    }
}
