package io.udit.model;

import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * 2-D rotary position tables for N tokens on a sqrt(N) x sqrt(N) grid and head dim d, applied as real arithmetic.
 * The head vector is read as d/2 complex pairs (2j, 2j+1); pair 2m turns by x * f_m and pair 2m+1 by y * f_m,
 * f_m = 1 / 10000^(4m / d): exactly the reference's precompute_freqs_cis_2d, without complex tensors.
 */
public final class RopeTable {
    public final int tokens;
    public final int headDim;
    /** (N, d/2) angles' cosines and sines, float32 as the reference computes them. */
    public final Tensor cos;
    public final Tensor sin;
    /** (N, d): cos repeated per pair, and sin with sign (-, +) per pair, for q * cosFull + swap(q) * sinSigned. */
    private final Tensor cosFull;
    private final Tensor sinSigned;

    public RopeTable(int tokens, int headDim) {
        this.tokens = tokens;
        this.headDim = headDim;
        int side = (int) Math.sqrt(tokens);
        Tensor pos = torch.arange(new Scalar(0), new Scalar(tokens), Tensors.options(ScalarType.Long));
        Tensor x = pos.remainder(new Scalar(side));
        Tensor y = pos.floor_divide(new Scalar(side));
        // freqs = 1 / theta ** (arange(0, d, 4)[: d // 4].float() / d), in float32 like the reference
        Tensor exponents = torch.arange(new Scalar(0), new Scalar(headDim), new Scalar(4), Tensors.options(ScalarType.Long))
                .narrow(0, 0, headDim / 4).to(ScalarType.Float).div(new Scalar((double) headDim));
        Tensor freqs = torch.pow(new Scalar(10000.0), exponents).reciprocal();
        Tensor xAngles = torch.outer(x, freqs).to(ScalarType.Float); // (N, d/4)
        Tensor yAngles = torch.outer(y, freqs).to(ScalarType.Float);
        Tensor angles = torch.stack(new TensorVector(xAngles, yAngles), -1).reshape(tokens, headDim / 2); // x, y interleaved
        this.cos = torch.cos(angles);
        this.sin = torch.sin(angles);
        this.cosFull = torch.stack(new TensorVector(cos, cos), -1).reshape(tokens, headDim);
        this.sinSigned = torch.stack(new TensorVector(sin.neg(), sin), -1).reshape(tokens, headDim);
    }

    /** Rotates (..., N, d) queries or keys: (a, b) -> (a cos - b sin, a sin + b cos) per pair. */
    public Tensor apply(Tensor q) {
        long[] s = Tensors.shape(q);
        long[] pairs = java.util.Arrays.copyOf(s, s.length + 1);
        pairs[s.length - 1] = headDim / 2;
        pairs[s.length] = 2;
        Tensor swapped = q.reshape(pairs).flip(-1).reshape(s); // (b, a) per pair
        return q.mul(cosFull).add(swapped.mul(sinSigned));
    }

    /** The table in the reference's layout: (N, d/2, 2) = (real, imag) of freqs_cis, for parity tests. */
    public Tensor asComplexPairs() {
        return torch.stack(new TensorVector(cos, sin), -1);
    }
}
