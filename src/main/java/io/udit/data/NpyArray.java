package io.udit.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Minimal pure-Java reader of numpy {@code .npy} files (format versions 1-3) with plain numeric dtypes (float16/32/64,
 * signed and unsigned integers, bool), C order. Kept here so data loading needs no libtorch; every problem is a
 * {@link DataException} naming the file.
 */
final class NpyArray {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("['\"]descr['\"]\\s*:\\s*(['\"])([^'\"]*)\\1");
    private static final Pattern FORTRAN = Pattern.compile("['\"]fortran_order['\"]\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("['\"]shape['\"]\\s*:\\s*\\(([^)]*)\\)");

    final Path file;
    /** numpy kind: 'f', 'i', 'u' or 'b'. */
    final char kind;
    final int itemSize;
    final long[] shape;
    final ByteBuffer data;

    private NpyArray(Path file, char kind, int itemSize, long[] shape, ByteBuffer data) {
        this.file = file;
        this.kind = kind;
        this.itemSize = itemSize;
        this.shape = shape;
        this.data = data;
    }

    long count() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    String dtype() {
        return switch (kind) {
            case 'f' -> "float" + 8 * itemSize;
            case 'i' -> "int" + 8 * itemSize;
            case 'u' -> "uint" + 8 * itemSize;
            default -> "bool";
        };
    }

    static String shapeString(long[] shape) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) sb.append(i == 0 ? "" : ", ").append(shape[i]);
        return sb.append(shape.length == 1 ? ",)" : ")").toString();
    }

    /** Reads a whole .npy file of at most {@code maxBytes} bytes. */
    static NpyArray read(Path file, long maxBytes) {
        byte[] b;
        if (!Files.isRegularFile(file) && Files.exists(file)) {
            throw new DataException(file + " is " + io.udit.engine.FileKinds.describe(file) + ", not a regular file");
        }
        try {
            long size = Files.size(file);
            if (size > maxBytes)
                throw new DataException(file + ": " + size + " bytes, larger than the " + maxBytes
                        + " expected for this array");
            b = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new DataException(file + ": no such file");
        } catch (IOException e) {
            throw new DataException(file + ": cannot read: " + e.getMessage(), e);
        }
        return parse(file, b);
    }

    static NpyArray parse(Path file, byte[] b) {
        if (b.length < 10 || !Arrays.equals(Arrays.copyOf(b, 6), MAGIC))
            throw new DataException(file + ": not a .npy file (" + (b.length < 6 ? "only " + b.length + " bytes"
                    : "no \\x93NUMPY magic") + ")");
        int major = b[6] & 0xff;
        long headerLen;
        int start;
        if (major == 1) {
            headerLen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
            start = 10;
        } else if (major == 2 || major == 3) {
            if (b.length < 12) throw new DataException(file + ": truncated .npy header");
            headerLen = ByteBuffer.wrap(b, 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xffffffffL;
            start = 12;
        } else {
            throw new DataException(file + ": unsupported .npy format version " + major + "." + (b[7] & 0xff));
        }
        if (start + headerLen > b.length)
            throw new DataException(file + ": truncated .npy header (" + headerLen + " header bytes announced, "
                    + (b.length - start) + " present)");
        String header = new String(b, start, (int) headerLen,
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Matcher m = DESCR.matcher(header);
        if (!m.find())
            throw new DataException(file + ": .npy header has no plain 'descr' (structured dtypes are not supported): "
                    + header.trim());
        String descr = m.group(2);
        Matcher f = FORTRAN.matcher(header);
        if (!f.find()) throw new DataException(file + ": .npy header has no 'fortran_order': " + header.trim());
        Matcher s = SHAPE.matcher(header);
        if (!s.find()) throw new DataException(file + ": .npy header has no 'shape': " + header.trim());
        long[] shape;
        try {
            shape = Arrays.stream(s.group(1).split(",")).map(String::trim).filter(t -> !t.isEmpty())
                    .map(t -> t.endsWith("L") ? t.substring(0, t.length() - 1) : t).mapToLong(Long::parseLong).toArray();
        } catch (NumberFormatException e) {
            throw new DataException(file + ": bad shape in .npy header: (" + s.group(1) + ")");
        }
        if (shape.length > 64) throw new DataException(file + ": .npy shape has " + shape.length + " dimensions (numpy allows 64)");
        if (descr.length() < 3) throw new DataException(file + ": unsupported dtype '" + descr + "'");
        char order = descr.charAt(0), kind = descr.charAt(1);
        int itemSize;
        try {
            itemSize = Integer.parseInt(descr.substring(2));
        } catch (NumberFormatException e) {
            throw new DataException(file + ": unsupported dtype '" + descr + "'");
        }
        boolean ok = switch (kind) {
            case 'f' -> itemSize == 2 || itemSize == 4 || itemSize == 8;
            case 'i', 'u' -> itemSize == 1 || itemSize == 2 || itemSize == 4 || itemSize == 8;
            case 'b' -> itemSize == 1;
            default -> false;
        };
        if (!ok || "<>|=".indexOf(order) < 0)
            throw new DataException(file + ": unsupported dtype '" + descr + "' (float16/32/64, integers, bool only)");
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new DataException(file + ": negative dimension in shape " + shapeString(shape));
            // n <= Integer.MAX_VALUE here, so with d bounded too the product cannot wrap around 64 bits
            if (d > Integer.MAX_VALUE) throw new DataException(file + ": shape " + shapeString(shape) + " too large");
            n *= d;
            if (n > Integer.MAX_VALUE) throw new DataException(file + ": shape " + shapeString(shape) + " too large");
        }
        if (f.group(1).equals("True") && nonTrivialDims(shape) > 1)
            throw new DataException(file + ": Fortran-order arrays are not supported (shape " + shapeString(shape) + ")");
        long want = n * itemSize, have = b.length - start - headerLen;
        if (have < want)
            throw new DataException(file + ": truncated: shape " + shapeString(shape) + " of " + descr + " needs " + want
                    + " data bytes, the file holds " + have);
        if (have > want)
            throw new DataException(file + ": " + (have - want) + " unexpected bytes after the " + shapeString(shape)
                    + " " + descr + " data");
        ByteBuffer data = ByteBuffer.wrap(b, (int) (start + headerLen), (int) want).slice()
                .order(order == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        return new NpyArray(file, kind, itemSize, shape, data);
    }

    private static int nonTrivialDims(long[] shape) {
        int k = 0;
        for (long d : shape) if (d > 1) k++;
        return k;
    }

    /** Element {@code i} as a float (floating-point dtypes only). */
    float getFloat(int i) {
        return switch (itemSize) {
            case 2 -> halfToFloat(data.getShort(2 * i));
            case 4 -> data.getFloat(4 * i);
            default -> (float) data.getDouble(8 * i);
        };
    }

    /** Element {@code i} as a long (integer and bool dtypes only). */
    long getLong(int i) {
        long v = switch (itemSize) {
            case 1 -> data.get(i);
            case 2 -> data.getShort(2 * i);
            case 4 -> data.getInt(4 * i);
            default -> data.getLong(8 * i);
        };
        if (kind == 'u' && itemSize < 8) v &= (1L << (8 * itemSize)) - 1;
        if (kind == 'b') v &= 0xff;
        return v;
    }

    /** IEEE 754 binary16 to float, exact (subnormals, infinities and NaN included). */
    static float halfToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16, exp = (bits >>> 10) & 0x1f, mant = bits & 0x3ff;
        if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
}
