package io.udit.io;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** The tensor element types the file formats here support, with their names in each format. */
enum DType {
    F32(ScalarType.Float, 4, "F32", 'f', "Float", "float32"),
    F64(ScalarType.Double, 8, "F64", 'f', "Double", "float64"),
    F16(ScalarType.Half, 2, "F16", 'f', "Half", "float16"),
    BF16(ScalarType.BFloat16, 2, "BF16", (char) 0, "BFloat16", "bfloat16"),
    I64(ScalarType.Long, 8, "I64", 'i', "Long", "int64"),
    I32(ScalarType.Int, 4, "I32", 'i', "Int", "int32"),
    I16(ScalarType.Short, 2, "I16", 'i', "Short", "int16"),
    I8(ScalarType.Char, 1, "I8", 'i', "Char", "int8"),
    U8(ScalarType.Byte, 1, "U8", 'u', "Byte", "uint8"),
    BOOL(ScalarType.Bool, 1, "BOOL", 'b', "Bool", "bool");

    final ScalarType type;
    final int size;
    final String safetensors;
    /** numpy kind character, 0 if numpy has no such type. */
    final char numpyKind;
    /** {@code torch.<storage>Storage}. */
    final String storage;
    /** {@code torch.<name>}. */
    final String torchName;

    DType(ScalarType type, int size, String safetensors, char numpyKind, String storage, String torchName) {
        this.type = type;
        this.size = size;
        this.safetensors = safetensors;
        this.numpyKind = numpyKind;
        this.storage = storage;
        this.torchName = torchName;
    }

    /** numpy type string without byte order, e.g. {@code f4}; null when numpy has no equivalent. */
    String numpyType() {
        return numpyKind == 0 ? null : numpyKind + Integer.toString(size);
    }

    /** numpy descr as written to .npy files, e.g. {@code <f4} or {@code |u1}. */
    String numpyDescr() {
        String t = numpyType();
        if (t == null) return null;
        return (size == 1 ? "|" : "<") + t;
    }

    static DType of(ScalarType t) {
        ScalarType s = t.intern();
        for (DType d : values()) if (d.type == s) return d;
        return null;
    }

    /** The tensor's dtype; IllegalArgumentException for dtypes these formats do not carry. */
    static DType of(Tensor t) {
        ScalarType s = t.scalar_type().intern();
        DType d = of(s);
        if (d == null) throw new IllegalArgumentException("unsupported tensor dtype " + s);
        return d;
    }

    static DType fromSafetensors(String name) {
        for (DType d : values()) if (d.safetensors.equals(name)) return d;
        return null;
    }

    /** From a numpy type like {@code f4}, {@code u1}, {@code b1}. */
    static DType fromNumpy(String type) {
        for (DType d : values()) if (type.equals(d.numpyType())) return d;
        return null;
    }

    /** From {@code FloatStorage} etc. */
    static DType fromStorageClass(String name) {
        for (DType d : values()) if ((d.storage + "Storage").equals(name)) return d;
        return null;
    }

}
