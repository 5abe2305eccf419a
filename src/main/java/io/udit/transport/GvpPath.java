package io.udit.transport;

import org.bytedeco.pytorch.Tensor;

/** SiT's GVPCPlan (geodesic variance preserving): alpha_t = sin(pi t / 2), sigma_t = cos(pi t / 2). */
public final class GvpPath extends FlowPath {
    @Override
    public Coefficient alpha(Tensor t) {
        Tensor angle = halfPiT(t);
        return new Coefficient(angle.sin(), Ts.mul(Math.PI / 2, angle.cos()));
    }

    @Override
    public Coefficient sigma(Tensor t) {
        Tensor angle = halfPiT(t);
        return new Coefficient(angle.cos(), Ts.mul(-Math.PI / 2, angle.sin()));
    }

    /** pi / (2 tan(pi t / 2)) (+inf at t = 0). */
    @Override
    public Tensor dAlphaAlphaRatio(Tensor t) {
        return Ts.rdiv(Math.PI, Ts.mul(2, halfPiT(t).tan()));
    }

    @Override
    public String name() {
        return "GVP";
    }

    /** {@code t * pi / 2}, evaluated as SiT does: (t * pi) / 2. */
    private static Tensor halfPiT(Tensor t) {
        return Ts.mul(Math.PI, t).div(new org.bytedeco.pytorch.Scalar(2.0));
    }
}
