package io.udit.transport;

import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * How training draws t on the transport's training interval [t0, t1] (SiT time, t = 0 noise):
 * <ul>
 *   <li>{@link #uniform()}: t = U(0, 1) (t1 - t0) + t0, SiT's {@code Transport.sample};</li>
 *   <li>{@link #logitNormal(double, double)}: t = t0 + (t1 - t0) sigmoid(location + scale n), n ~ N(0, 1), the
 *   logit-normal of SD3 (Esser et al. 2024) squeezed into the same interval. A positive location puts more draws
 *   near the data end (t = 1) in SiT's convention.</li>
 * </ul>
 */
public record TimestepSampling(Kind kind, double location, double scale) {
    public enum Kind { UNIFORM, LOGIT_NORMAL }

    public TimestepSampling {
        if (kind == Kind.LOGIT_NORMAL && !(scale > 0)) throw new IllegalArgumentException("logit-normal scale must be > 0: " + scale);
    }

    public static TimestepSampling uniform() {
        return new TimestepSampling(Kind.UNIFORM, 0, 1);
    }

    public static TimestepSampling logitNormal(double location, double scale) {
        return new TimestepSampling(Kind.LOGIT_NORMAL, location, scale);
    }

    /** {@code n} times on {@code interval} from the generator, as a 1-D tensor of the given dtype. */
    public Tensor sample(long n, TimeInterval interval, Generator generator, ScalarType dtype) {
        TensorOptions opts = new TensorOptions(dtype);
        GeneratorOptional g = new GeneratorOptional(generator);
        Tensor unit = kind == Kind.UNIFORM
                ? torch.rand(new long[] {n}, g, opts)
                : torch.randn(new long[] {n}, g, opts).mul(new Scalar(scale)).add(new Scalar(location)).sigmoid();
        return unit.mul(new Scalar(interval.t1() - interval.t0())).add(new Scalar(interval.t0()));
    }
}
