package io.udit.diffusion;

import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Classifier-free guidance around a {@link DenoiserFn}: guided eps = uncond + s (cond - uncond).
 *
 * <p>{@link Mode#REFERENCE} guides only output channels 0..2, exactly like DiT / U-DiT's {@code forward_with_cfg}
 * (kept there "for exact reproducibility"): channel 3 and the variance channels keep the model output.
 * {@link Mode#STANDARD} guides all C epsilon channels (C = channels of x). Variance channels are never guided.
 * A {@link GuidanceInterval} limits guidance to part of the sampling trajectory.
 */
public final class ClassifierFreeGuidance {
    private ClassifierFreeGuidance() {}

    public enum Mode {
        /** Channels 0..2 only (the reference's choice). */
        REFERENCE,
        /** All C epsilon channels. */
        STANDARD;

        /** How many leading output channels are guided for inputs with {@code c} channels. */
        public long guidedChannels(long c) {
            return this == REFERENCE ? Math.min(3, c) : c;
        }
    }

    /**
     * The reference's {@code forward_with_cfg} on a doubled batch: x, t, y hold 2n rows ([cond; uncond], y's second
     * half being the null class); the model is run on [x[:n]; x[:n]] and the guided channels of both halves are
     * replaced by the guided value, the other channels keep each row's own output. Returns 2n rows.
     */
    public static Tensor forwardWithCfg(DenoiserFn model, Tensor x, Tensor t, Tensor y, double scale, Mode mode) {
        long total = x.size(0);
        if (total % 2 != 0) throw new IllegalArgumentException("the doubled batch must have an even size: " + total);
        Tensor half = x.narrow(0, 0, total / 2);
        Tensor out = model.apply(torch.cat(new TensorVector(half, half), 0), t, y);
        Tensor guided = guideEps(out, mode.guidedChannels(x.size(1)), scale);
        Tensor rest = out.narrow(1, guided.size(1), out.size(1) - guided.size(1));
        return torch.cat(new TensorVector(torch.cat(new TensorVector(guided, guided), 0), rest), 1);
    }

    /** {@link #forwardWithCfg} as a DenoiserFn over the doubled batch (for reference-style sampling). */
    public static DenoiserFn doubledBatch(DenoiserFn model, double scale, Mode mode) {
        return (x, t, y) -> forwardWithCfg(model, x, t, y, scale, mode);
    }

    /**
     * {@link #doubledBatch(DenoiserFn, double, Mode)} guiding only the rows whose time lies in {@code interval}:
     * the other rows of both halves get the conditional output of their first-half row, which is what
     * forwardWithCfg returns at guidance scale 1. When no row is inside, the model runs on the n conditional rows.
     */
    public static DenoiserFn doubledBatch(DenoiserFn model, double scale, Mode mode, GuidanceInterval interval) {
        return (x, t, y) -> {
            if (interval.always()) return forwardWithCfg(model, x, t, y, scale, mode);
            long n = x.size(0) / 2;
            Tensor inside = interval.contains(t.narrow(0, 0, n));
            long count = inside.sum().item_long();
            if (count == n) return forwardWithCfg(model, x, t, y, scale, mode);
            Tensor cond = model.apply(x.narrow(0, 0, n), t.narrow(0, 0, n), y.narrow(0, 0, n));
            Tensor plain = torch.cat(new TensorVector(cond, cond), 0);
            if (count == 0) return plain;
            return torch.where(rows(torch.cat(new TensorVector(inside, inside), 0), plain), forwardWithCfg(model, x, t, y, scale, mode), plain);
        };
    }

    /**
     * The convenient form: a DenoiserFn over n samples with class ids y (n). Each call builds the doubled batch
     * [x; x], [t; t], [y; nullClass], runs the model once on 2n rows and returns the n conditional rows with the
     * guided channels replaced by the guided epsilon.
     */
    public static DenoiserFn guided(DenoiserFn model, long nullClass, double scale, Mode mode) {
        return guided(model, nullClass, scale, mode, GuidanceInterval.ALWAYS);
    }

    /**
     * {@link #guided(DenoiserFn, long, double, Mode)} limited to the rows whose time lies in {@code interval}; the
     * other rows get the plain conditional output. When no row is inside, the model runs on the n conditional rows
     * only; when some are, on the doubled batch, and the rows outside take its conditional half.
     */
    public static DenoiserFn guided(DenoiserFn model, long nullClass, double scale, Mode mode, GuidanceInterval interval) {
        return (x, t, y) -> {
            if (y == null) throw new IllegalArgumentException("classifier-free guidance needs class labels");
            Tensor inside = interval.always() ? null : interval.contains(t);
            long count = inside == null ? x.size(0) : inside.sum().item_long();
            if (count == 0) return model.apply(x, t, y);
            long n = x.size(0);
            Tensor nullY = torch.full(new long[] {n}, new Scalar(nullClass), new TensorOptions(ScalarType.Long))
                    .to(y.device(), ScalarType.Long);
            Tensor out = model.apply(torch.cat(new TensorVector(x, x), 0), torch.cat(new TensorVector(t, t), 0),
                    torch.cat(new TensorVector(y.to(y.device(), ScalarType.Long), nullY), 0));
            Tensor guided = guideEps(out, mode.guidedChannels(x.size(1)), scale);
            Tensor cond = out.narrow(0, 0, n);
            Tensor condRest = cond.narrow(1, guided.size(1), out.size(1) - guided.size(1));
            Tensor result = torch.cat(new TensorVector(guided, condRest), 1);
            if (count == n) return result;
            return torch.where(rows(inside, cond), result, cond);
        };
    }

    /** A per-row bool mask (n) viewed as (n, 1, ..., 1) to select whole rows of {@code like}. */
    private static Tensor rows(Tensor mask, Tensor like) {
        long[] shape = new long[(int) like.dim()];
        java.util.Arrays.fill(shape, 1);
        shape[0] = mask.size(0);
        return mask.reshape(shape);
    }

    /** uncond + s (cond - uncond) on the first k channels of a [cond; uncond] output: n rows, k channels. */
    public static Tensor guideEps(Tensor out, long k, double scale) {
        long total = out.size(0);
        if (total % 2 != 0) throw new IllegalArgumentException("odd batch " + Tensors.shapeString(out));
        if (k > out.size(1)) throw new IllegalArgumentException("cannot guide " + k + " of " + out.size(1) + " channels");
        Tensor eps = out.narrow(1, 0, k);
        Tensor cond = eps.narrow(0, 0, total / 2);
        Tensor uncond = eps.narrow(0, total / 2, total / 2);
        return uncond.add(cond.sub(uncond).mul(new Scalar(scale)));
    }
}
