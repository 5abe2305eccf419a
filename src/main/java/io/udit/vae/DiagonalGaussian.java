package io.udit.vae;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;

/**
 * diffusers' {@code DiagonalGaussianDistribution}: the moments (N, 2C, h, w) split into mean and log-variance, the
 * log-variance clamped to [-30, 20], std = exp(logvar / 2), sample = mean + std * eps.
 */
public record DiagonalGaussian(Tensor mean, Tensor logvar) {
    public static final double LOGVAR_MIN = -30.0, LOGVAR_MAX = 20.0;

    public static DiagonalGaussian of(Tensor moments) {
        long c2 = moments.size(1);
        if (c2 % 2 != 0) throw new VaeException("posterior moments need an even channel count, got " + c2);
        Tensor mean = moments.narrow(1, 0, c2 / 2);
        Tensor logvar = moments.narrow(1, c2 / 2, c2 / 2).clamp(new ScalarOptional(new Scalar(LOGVAR_MIN)),
                new ScalarOptional(new Scalar(LOGVAR_MAX)));
        return new DiagonalGaussian(mean, logvar);
    }

    public Tensor std() {
        return logvar.mul(new Scalar(0.5)).exp();
    }

    /** mean + std * eps, eps of the mean's shape. */
    public Tensor sample(Tensor eps) {
        return mean.add(std().mul(eps));
    }

    /** The mode (the mean). */
    public Tensor mode() {
        return mean;
    }
}
