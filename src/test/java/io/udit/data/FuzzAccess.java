package io.udit.data;

import java.nio.file.Path;

/** Test-only door to the package-private data parsers, for the fuzz tests in {@code io.udit.fuzz}. */
public final class FuzzAccess {
    private FuzzAccess() {}

    /** {@link Idx#read}: returns the number of data bytes read. */
    public static int idx(Path file, int ndims) {
        Idx i = Idx.read(file, ndims);
        long n = 1;
        for (int d : i.dims) n *= d;
        if (n != i.data.length) throw new AssertionError("IDX dims " + Idx.dimString(i.dims, i.dims.length) + " but " + i.data.length + " bytes");
        return i.data.length;
    }

    /** {@link NpyArray#parse}, then every element read back through the accessors the loaders use. */
    public static long[] npyArray(Path name, byte[] bytes) {
        NpyArray a = NpyArray.parse(name, bytes);
        long n = a.count();
        long exact = 1;
        for (long d : a.shape) {
            if (d < 0) throw new AssertionError("negative dimension accepted: " + NpyArray.shapeString(a.shape));
            exact = Math.multiplyExact(exact, d);
        }
        if (exact != n) throw new AssertionError("element count " + n + " of shape " + NpyArray.shapeString(a.shape) + " overflowed");
        if (n < 0 || n * a.itemSize != a.data.capacity()) {
            throw new AssertionError("shape " + NpyArray.shapeString(a.shape) + " x " + a.itemSize + " bytes but "
                    + a.data.capacity() + " data bytes");
        }
        for (int i = 0; i < n; i++) {
            if (a.kind == 'f') a.getFloat(i);
            else a.getLong(i);
        }
        a.dtype();
        return a.shape;
    }

    /** {@link Images#readRgb}, then ADM's centre crop to {@code size} (upscaling allowed). */
    public static int image(Path file, int size) {
        Images.Rgb rgb = Images.readRgb(file);
        if (rgb.data().length != 3L * rgb.width() * rgb.height()) throw new AssertionError("RGB buffer size");
        if (size > 0) ImageFolder.centerCrop(rgb, size, true, file);
        return rgb.width() * rgb.height();
    }
}
