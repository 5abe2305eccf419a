package io.udit.engine;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.lang.ref.Reference;
import java.util.Arrays;

/** Thin helpers between Java arrays and libtorch tensors (bulk copies, never one element per native call). */
public final class Tensors {
    private Tensors() {}

    public static TensorOptions options(ScalarType type) {
        return new TensorOptions(type);
    }

    public static Tensor empty(ScalarType type, long... shape) {
        Engine.init();
        return torch.empty(shape, options(type), null);
    }

    public static Tensor zeros(ScalarType type, long... shape) {
        Engine.init();
        return torch.zeros(shape, options(type));
    }

    public static Tensor floats(float[] data, long... shape) {
        checkCount(data.length, shape);
        Tensor t = empty(ScalarType.Float, shape);
        if (data.length > 0) new FloatPointer(t.data_ptr_float()).put(data);
        return t;
    }

    public static Tensor doubles(double[] data, long... shape) {
        checkCount(data.length, shape);
        Tensor t = empty(ScalarType.Double, shape);
        if (data.length > 0) new DoublePointer(t.data_ptr_double()).put(data);
        return t;
    }

    public static Tensor longs(long[] data, long... shape) {
        checkCount(data.length, shape);
        Tensor t = empty(ScalarType.Long, shape);
        if (data.length > 0) new LongPointer(t.data_ptr_long()).put(data);
        return t;
    }

    /** A 1-D int64 tensor of the given values. */
    public static Tensor longs(long... data) {
        return longs(data, data.length);
    }

    /** Raw little-endian bytes into a fresh tensor of the given type and shape. */
    public static Tensor fromBytes(byte[] data, ScalarType type, long... shape) {
        Tensor t = empty(type, shape);
        if (t.nbytes() != data.length) {
            throw new IllegalArgumentException("expected " + t.nbytes() + " bytes for " + type + Arrays.toString(shape)
                    + ", got " + data.length);
        }
        if (data.length > 0) new BytePointer(t.data_ptr()).capacity(data.length).put(data, 0, data.length);
        return t;
    }

    public static float[] toFloats(Tensor t) {
        Tensor c = t.to(ScalarType.Float).contiguous();
        float[] out = new float[(int) c.numel()];
        if (out.length > 0) new FloatPointer(c.data_ptr_float()).get(out);
        Reference.reachabilityFence(c);
        return out;
    }

    public static double[] toDoubles(Tensor t) {
        Tensor c = t.to(ScalarType.Double).contiguous();
        double[] out = new double[(int) c.numel()];
        if (out.length > 0) new DoublePointer(c.data_ptr_double()).get(out);
        Reference.reachabilityFence(c);
        return out;
    }

    public static long[] toLongs(Tensor t) {
        Tensor c = t.to(ScalarType.Long).contiguous();
        long[] out = new long[(int) c.numel()];
        if (out.length > 0) new LongPointer(c.data_ptr_long()).get(out);
        Reference.reachabilityFence(c);
        return out;
    }

    /** The tensor's bytes in its own dtype, C order. */
    public static byte[] toBytes(Tensor t) {
        Tensor c = t.contiguous();
        long n = c.nbytes();
        if (n > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("tensor too large for a byte[]: " + n);
        byte[] out = new byte[(int) n];
        if (n > 0) new BytePointer(c.data_ptr()).capacity(n).get(out, 0, (int) n);
        Reference.reachabilityFence(c);
        return out;
    }

    public static long[] shape(Tensor t) {
        long[] s = t.sizes().vec().get(); // sizes() points into the tensor: keep it alive until copied
        Reference.reachabilityFence(t);
        return s;
    }

    public static String shapeString(Tensor t) {
        return Arrays.toString(shape(t));
    }

    public static boolean isType(Tensor t, ScalarType type) {
        return t.scalar_type().intern() == type;
    }

    public static Scalar scalar(double v) {
        return new Scalar(v);
    }

    /** ||a - b|| / ||b|| in float64. */
    public static double relativeError(Tensor actual, Tensor expected) {
        Tensor a = actual.to(ScalarType.Double);
        Tensor b = expected.to(ScalarType.Double);
        double diff = a.sub(b).norm().item_double();
        double ref = b.norm().item_double();
        return ref == 0 ? diff : diff / ref;
    }

    public static double maxAbsDiff(Tensor a, Tensor b) {
        return a.to(ScalarType.Double).sub(b.to(ScalarType.Double)).abs().max().item_double();
    }

    private static void checkCount(long n, long[] shape) {
        long prod = 1;
        for (long s : shape) {
            if (s < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            prod = Math.multiplyExact(prod, s);
        }
        if (prod != n) {
            throw new IllegalArgumentException(n + " values do not fill shape " + Arrays.toString(shape));
        }
    }
}
