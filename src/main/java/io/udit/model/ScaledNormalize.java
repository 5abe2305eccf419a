package io.udit.model;

import io.udit.engine.NativeScopes;
import org.bytedeco.pytorch.Dispatcher;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.OperatorHandle;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Cosine attention's normalisation: {@code g x / max(|x|, 1e-12)} over the last axis, with one factor g per row
 * (the per-head logit scale for q, 1 for k). Wherever every row's norm reaches the clamp this is weight norm's function,
 * {@code g x / |x|}, and runs as libtorch's fused weight-norm kernel: one pass forward and one backward, where the
 * plain arithmetic (norm, clamp, reciprocal, two products) takes several (figures in docs/performance.md). A row below
 * the clamp (a zero input with zero biases gives zero q and k) is where the two functions differ, so then the plain
 * arithmetic runs instead.
 */
final class ScaledNormalize {
    private ScaledNormalize() {}

    static final double MIN_NORM = 1e-12;

    // kept for the life of the class: made inside the first caller's PointerScope, it would be freed with it
    private static final OperatorHandle WEIGHT_NORM = find();

    private static OperatorHandle find() {
        try {
            return NativeScopes.escape(Dispatcher.singleton().findSchemaOrThrow("aten::_weight_norm_interface", ""));
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** g x / max(|x|, 1e-12) over x's last axis; g broadcasts against x's shape with a last axis of 1. */
    static Tensor apply(Tensor x, Tensor g) {
        if (WEIGHT_NORM == null) return plain(x, g);
        long d = x.size(-1), rows = x.numel() / d;
        long[] rowShape = x.sizes().vec().get();
        rowShape[rowShape.length - 1] = 1;
        IValueVector stack = new IValueVector();
        stack.push_back(new IValue(x.reshape(rows, d)));
        stack.push_back(new IValue(g.expand(rowShape).reshape(rows, 1)));
        stack.push_back(new IValue(0L));
        Dispatcher.singleton().callBoxed(WEIGHT_NORM, stack);
        Tensor y = stack.get(0).toTensor(), norms = stack.get(1).toTensor();
        if (norms.detach().min().item_double() < MIN_NORM) return plain(x, g);
        return y.view(x.sizes().vec().get());
    }

    /** The plain arithmetic: one factor per row, g / max(|x|, 1e-12), times x. */
    static Tensor plain(Tensor x, Tensor g) {
        Tensor inverseNorm = torch.linalg_vector_norm(x, new Scalar(2.0), new long[] {-1}, true, new ScalarTypeOptional())
                .clamp_min(new Scalar(MIN_NORM)).reciprocal();
        return x.mul(inverseNorm.mul(g));
    }
}
