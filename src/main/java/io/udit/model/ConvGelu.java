package io.udit.model;

import io.udit.engine.NativeScopes;
import org.bytedeco.pytorch.Dispatcher;
import org.bytedeco.pytorch.GenericList;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.ListType;
import org.bytedeco.pytorch.OperatorHandle;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.Type;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A stride-1 convolution followed by exact GELU. Without autograd on CPU in fp32 it runs as one oneDNN primitive
 * with GELU as a post-op (libtorch's {@code mkldnn::_convolution_pointwise}, which the JavaCPP presets do not bind,
 * so it is called through the dispatcher): GELU is applied while the output is still in cache instead of in a
 * second pass over it. Callers check {@link #fuses} and otherwise run the convolution and GELU as two ops (they have
 * a backward; this primitive has none).
 */
final class ConvGelu {
    private ConvGelu() {}

    // kept for the life of the class: made inside the first caller's PointerScope, they would be freed with it
    private static final OperatorHandle POINTWISE = find();
    /** The element type of the op's "scalars" argument (Scalar?[]), from its own schema. */
    private static final Type.TypePtr OPTIONAL_SCALAR = POINTWISE == null ? null
            : NativeScopes.escape(POINTWISE.schema().arguments().position(8).type().get().containedType(0));
    private static final Type.TypePtr INT = NativeScopes.escape(ListType.ofInts().containedType(0));

    private static OperatorHandle find() {
        try {
            return NativeScopes.escape(Dispatcher.singleton().findSchemaOrThrow("mkldnn::_convolution_pointwise", ""));
        } catch (RuntimeException e) {
            return null; // a libtorch built without oneDNN
        }
    }

    static boolean fuses(Tensor x, Tensor w) {
        return POINTWISE != null && !GradMode.is_enabled() && !x.is_cuda() && x.dim() == 4
                && x.scalar_type().intern() == ScalarType.Float && w.scalar_type().intern() == ScalarType.Float;
    }

    /** The fused primitive, whatever the grad mode (callers check {@link #fuses}; tests call it directly). */
    static Tensor fused(Tensor x, Tensor w, Tensor b, long pad, long groups) {
        IValueVector stack = new IValueVector();
        stack.push_back(new IValue(x));
        stack.push_back(new IValue(w));
        stack.push_back(b == null ? new IValue() : new IValue(b));
        stack.push_back(ints(pad, pad)); // padding
        stack.push_back(ints(1, 1)); // stride
        stack.push_back(ints(1, 1)); // dilation
        stack.push_back(new IValue(groups));
        stack.push_back(new IValue("gelu"));
        // scalars (Scalar?[]): none; the element type is taken from the op's own schema
        stack.push_back(new IValue(new GenericList(OPTIONAL_SCALAR)));
        stack.push_back(new IValue("none")); // exact (erf) GELU, as torch.gelu's default
        Dispatcher.singleton().callBoxed(POINTWISE, stack);
        return stack.get(0).toTensor();
    }

    private static IValue ints(long... values) {
        GenericList list = new GenericList(INT);
        for (long v : values) list.push_back(new IValue(v));
        return new IValue(list);
    }

    /** The plain arithmetic the fused primitive replaces. */
    static Tensor plain(Tensor x, Tensor w, Tensor b, long pad, long groups) {
        return torch.gelu(torch.conv2d(x, w, b == null ? new TensorOptional() : new TensorOptional(b),
                new long[] {1, 1}, new long[] {pad, pad}, new long[] {1, 1}, groups));
    }
}
