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
    /** (N, 1, d/2) complex64 e^{i angle}: one complex multiply rotates every head of q and k in a single pass. */
    private final Tensor rotation;

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
        this.rotation = torch.polar(torch.ones_like(angles), angles).unsqueeze(1);
    }

    /**
     * Rotates token-major queries and/or keys (..., N, H * d) for H heads (e.g. q and k side by side, H = 2 heads),
     * as the reference does: channel pairs read as complex numbers times e^{i angle}. Returns (..., N, H * d).
     * The last axis must be unit-stride (a narrow of the qkv projection is fine).
     */
    public Tensor rotate(Tensor x, int heads) {
        long[] s = Tensors.shape(x);
        long[] pairs = java.util.Arrays.copyOf(s, s.length + 2);
        pairs[s.length - 1] = heads;
        pairs[s.length] = headDim / 2;
        pairs[s.length + 1] = 2;
        Tensor rotated = torch.view_as_real(torch.view_as_complex(x.view(pairs)).mul(rotation));
        return rotated.reshape(s);
    }

    private volatile RopeTable onGpu;

    /** This table on the given device (CPU tables are built once; a GPU copy is made on first use and kept). */
    public RopeTable on(org.bytedeco.pytorch.Device device) {
        if (!device.is_cuda()) return this;
        RopeTable g = onGpu;
        if (g == null) {
            g = io.udit.engine.NativeScopes.outsideScopes(() -> new RopeTable(this, device));
            onGpu = g;
        }
        return g;
    }

    private RopeTable(RopeTable cpu, org.bytedeco.pytorch.Device device) {
        this.tokens = cpu.tokens;
        this.headDim = cpu.headDim;
        this.cos = cpu.cos.to(device, ScalarType.Float);
        this.sin = cpu.sin.to(device, ScalarType.Float);
        this.rotation = cpu.rotation.to(device, cpu.rotation.scalar_type().intern());
    }

    /** The table in the reference's layout: (N, d/2, 2) = (real, imag) of freqs_cis, for parity tests. */
    public Tensor asComplexPairs() {
        return torch.stack(new TensorVector(cos, sin), -1);
    }
}
