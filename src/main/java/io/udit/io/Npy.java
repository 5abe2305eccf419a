package io.udit.io;

import io.udit.engine.Engine;
import org.bytedeco.pytorch.Tensor;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * numpy {@code .npy} arrays (format versions 1.0, 2.0 and 3.0) to and from tensors. Supported types: {@code <f4 <f8
 * <f2 <i8 <i4 <i2 |i1 |u1 |b1}; big-endian ({@code >}) arrays are converted, {@code fortran_order} arrays are
 * transposed into C order. Structured, complex, unsigned >8-bit, string and object arrays are refused.
 */
public final class Npy {
    private Npy() {}

    /** The largest header accepted (numpy itself refuses more than 10000 bytes by default). */
    static final int MAX_HEADER = 1 << 16;

    /** Parsed {@code .npy} header: dtype, shape, order, and where the data starts. */
    record Header(DType dtype, boolean bigEndian, boolean fortran, long[] shape, long dataOffset) {
        long nbytes(Object source) throws CheckpointFormatException {
            return NativeIO.nbytes(source, "array", shape, dtype);
        }
    }

    /** Reads a {@code .npy} file; the file must hold exactly the bytes its header declares. */
    public static Tensor read(Path file) throws IOException {
        Engine.init();
        Sniff.requireRegularFile(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            byte[] prefix = new byte[(int) Math.min(size, MAX_HEADER + 12)];
            ByteBuffer pb = ByteBuffer.wrap(prefix);
            while (pb.hasRemaining()) {
                if (ch.read(pb, pb.position()) < 0) break;
            }
            Header h = parseHeader(new ByteArrayInputStream(prefix), file);
            long nbytes = h.nbytes(file);
            long have = size - h.dataOffset;
            if (have < nbytes) {
                throw CheckpointFormatException.of(file, "array data is truncated: header declares " + shapeString(h) + " ("
                        + nbytes + " bytes) but the file holds " + have);
            }
            if (have > nbytes) {
                throw CheckpointFormatException.of(file, (have - nbytes) + " unexpected bytes after the array data");
            }
            Tensor t = NativeIO.allocate(file, "array", h.dtype, storageShape(h));
            NativeIO.readFully(ch, h.dataOffset, t, file, "array");
            return finish(t, h, file);
        }
    }

    /** Reads one array from a stream (which is left just after the array's data). */
    public static Tensor read(InputStream in) throws IOException {
        return read(in, "<stream>");
    }

    /** As {@link #read(InputStream)}, naming {@code source} in error messages. */
    public static Tensor read(InputStream in, String source) throws IOException {
        Engine.init();
        Header h = parseHeader(in, source);
        return readData(in, h, source);
    }

    /** Reads an array from bytes, which must hold exactly one array. */
    public static Tensor read(byte[] bytes) throws IOException {
        ByteArrayInputStream in = new ByteArrayInputStream(bytes);
        Tensor t = read(in, "<bytes>");
        if (in.available() > 0) throw CheckpointFormatException.of("<bytes>", in.available() + " unexpected bytes after the array data");
        return t;
    }

    static Tensor readData(InputStream in, Header h, Object source) throws IOException {
        Tensor t = NativeIO.allocate(source, "array", h.dtype, storageShape(h));
        NativeIO.readFully(in, t, source, "array");
        return finish(t, h, source);
    }

    private static long[] storageShape(Header h) {
        if (!h.fortran) return h.shape;
        long[] r = new long[h.shape.length];
        for (int k = 0; k < r.length; k++) r[k] = h.shape[r.length - 1 - k];
        return r;
    }

    private static Tensor finish(Tensor t, Header h, Object source) throws CheckpointFormatException {
        if (h.bigEndian) t = NativeIO.byteSwap(t, h.dtype);
        if (h.dtype == DType.BOOL) NativeIO.checkBool(t, source, "array");
        if (h.fortran && h.shape.length > 1) {
            long[] perm = new long[h.shape.length];
            for (int k = 0; k < perm.length; k++) perm[k] = perm.length - 1 - k;
            t = t.permute(perm).contiguous();
        }
        return t;
    }

    private static String shapeString(Header h) {
        return h.dtype.torchName + java.util.Arrays.toString(h.shape);
    }

    /** Reads and parses the magic, version and header dict; the stream is left at the start of the data. */
    static Header parseHeader(InputStream in, Object source) throws IOException {
        byte[] pre = in.readNBytes(8);
        if (pre.length < 8 || !Sniff.isNpy(pre)) {
            if (pre.length < 8 && Sniff.isNpy(java.util.Arrays.copyOf(pre, 8))) {
                throw CheckpointFormatException.of(source, "npy file is truncated");
            }
            throw CheckpointFormatException.of(source, "not an .npy array (bad magic; the data is "
                    + Sniff.describe(pre, pre.length) + ")");
        }
        int major = pre[6] & 0xFF;
        int minor = pre[7] & 0xFF;
        long hlen;
        int lenBytes;
        if (major == 1 && minor == 0) {
            byte[] l = in.readNBytes(2);
            if (l.length < 2) throw CheckpointFormatException.of(source, "npy file is truncated in its header");
            hlen = (l[0] & 0xFF) | (l[1] & 0xFF) << 8;
            lenBytes = 2;
        } else if ((major == 2 || major == 3) && minor == 0) {
            byte[] l = in.readNBytes(4);
            if (l.length < 4) throw CheckpointFormatException.of(source, "npy file is truncated in its header");
            hlen = ByteBuffer.wrap(l).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xFFFFFFFFL;
            lenBytes = 4;
        } else {
            throw CheckpointFormatException.of(source, "unsupported npy format version " + major + "." + minor);
        }
        if (hlen > MAX_HEADER) throw CheckpointFormatException.of(source, "npy header of " + hlen + " bytes exceeds " + MAX_HEADER);
        byte[] hb = in.readNBytes((int) hlen);
        if (hb.length < hlen) throw CheckpointFormatException.of(source, "npy file is truncated in its header");
        String text = new String(hb, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Header h = new HeaderParser(text, source).parse(8 + lenBytes + hlen);
        return h;
    }

    /** Parser for the header's Python dict literal, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }. */
    private static final class HeaderParser {
        final String s;
        final Object source;
        int i;

        HeaderParser(String s, Object source) {
            this.s = s;
            this.source = source;
        }

        CheckpointFormatException err(String m) {
            return CheckpointFormatException.of(source, "malformed npy header (" + m + "): " + NativeIO.printable(s.trim()));
        }

        void ws() {
            while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\n' || s.charAt(i) == '\t' || s.charAt(i) == '\r')) i++;
        }

        void expect(char c) throws CheckpointFormatException {
            ws();
            if (i >= s.length() || s.charAt(i) != c) throw err("expected '" + c + "'");
            i++;
        }

        boolean peek(char c) {
            ws();
            return i < s.length() && s.charAt(i) == c;
        }

        String string() throws CheckpointFormatException {
            ws();
            if (i >= s.length() || (s.charAt(i) != '\'' && s.charAt(i) != '"')) throw err("expected a string");
            char q = s.charAt(i++);
            int start = i;
            while (i < s.length() && s.charAt(i) != q) {
                if (s.charAt(i) == '\\') throw err("escapes are not supported");
                i++;
            }
            if (i >= s.length()) throw err("unterminated string");
            return s.substring(start, i++);
        }

        Header parse(long dataOffset) throws CheckpointFormatException {
            String descr = null;
            Boolean fortran = null;
            long[] shape = null;
            expect('{');
            while (!peek('}')) {
                String key = string();
                expect(':');
                ws();
                switch (key) {
                    case "descr" -> {
                        if (descr != null) throw err("duplicate descr");
                        if (peek('[')) {
                            throw CheckpointFormatException.of(source, "structured numpy dtypes are not supported");
                        }
                        descr = string();
                    }
                    case "fortran_order" -> {
                        if (fortran != null) throw err("duplicate fortran_order");
                        if (s.startsWith("True", i)) {
                            fortran = true;
                            i += 4;
                        } else if (s.startsWith("False", i)) {
                            fortran = false;
                            i += 5;
                        } else {
                            throw err("fortran_order must be True or False");
                        }
                    }
                    case "shape" -> {
                        if (shape != null) throw err("duplicate shape");
                        shape = tuple();
                    }
                    default -> throw err("unexpected key '" + NativeIO.printable(key) + "'");
                }
                ws();
                if (peek(',')) {
                    i++;
                } else if (!peek('}')) {
                    throw err("expected ',' or '}'");
                }
            }
            i++;
            ws();
            if (i != s.length()) throw err("unexpected text after the dict");
            if (descr == null || fortran == null || shape == null) throw err("descr, fortran_order and shape are required");
            return dtype(descr, fortran, shape, dataOffset);
        }

        long[] tuple() throws CheckpointFormatException {
            expect('(');
            List<Long> dims = new ArrayList<>();
            while (!peek(')')) {
                ws();
                int start = i;
                if (i < s.length() && s.charAt(i) == '-') i++;
                while (i < s.length() && Character.isDigit(s.charAt(i))) i++;
                if (i == start) throw err("expected an integer dimension");
                String num = s.substring(start, i);
                if (i < s.length() && s.charAt(i) == 'L') i++; // python 2 long
                long v;
                try {
                    v = Long.parseLong(num);
                } catch (NumberFormatException e) {
                    throw CheckpointFormatException.of(source, "npy shape dimension " + NativeIO.printable(num) + " is out of range");
                }
                if (v < 0) throw CheckpointFormatException.of(source, "npy shape has a negative dimension " + v);
                dims.add(v);
                if (dims.size() > NativeIO.MAX_DIMS) throw CheckpointFormatException.of(source, "npy shape has too many dimensions");
                if (peek(',')) {
                    i++;
                } else if (!peek(')')) {
                    throw err("expected ',' or ')'");
                }
            }
            i++;
            long[] out = new long[dims.size()];
            for (int k = 0; k < out.length; k++) out[k] = dims.get(k);
            return out;
        }

        Header dtype(String descr, boolean fortran, long[] shape, long dataOffset) throws CheckpointFormatException {
            if (descr.length() < 2) throw CheckpointFormatException.of(source, "unsupported npy dtype '" + NativeIO.printable(descr) + "'");
            char order = descr.charAt(0);
            String type = descr;
            if ("<>|=".indexOf(order) >= 0) {
                type = descr.substring(1);
            } else {
                order = '=';
            }
            DType d = DType.fromNumpy(type);
            if (d == null) {
                throw CheckpointFormatException.of(source, "unsupported npy dtype '" + NativeIO.printable(descr)
                        + "' (supported: <f4 <f8 <f2 <i8 <i4 <i2 |i1 |u1 |b1)");
            }
            if (order == '|' && d.size > 1) {
                throw CheckpointFormatException.of(source, "npy dtype '" + NativeIO.printable(descr) + "' lacks a byte order");
            }
            boolean big = order == '>' && d.size > 1;
            NativeIO.numel(source, "array", shape);
            return new Header(d, big, fortran, shape, dataOffset);
        }
    }

    /** Atomically writes the tensor as a {@code .npy} file (C order, little-endian). */
    public static void write(Path file, Tensor t) throws IOException {
        Engine.init();
        Tensor c = NativeIO.prepare(t, "array");
        byte[] header = header(c);
        AtomicFiles.write(file, ch -> {
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(header));
            NativeIO.write(ch, c, null);
        });
    }

    /** Writes the tensor as {@code .npy} bytes to a stream. */
    public static void write(OutputStream out, Tensor t) throws IOException {
        Engine.init();
        Tensor c = NativeIO.prepare(t, "array");
        out.write(header(c));
        long n = c.nbytes();
        byte[] buf = new byte[(int) Math.min(n, 1 << 22)];
        try {
            for (long done = 0; done < n; ) {
                int k = (int) Math.min(buf.length, n - done);
                NativeIO.view(c, done, k).get(buf, 0, k);
                out.write(buf, 0, k);
                done += k;
            }
        } finally {
            java.lang.ref.Reference.reachabilityFence(c);
        }
    }

    /** The tensor as {@code .npy} bytes (must fit a byte array). */
    public static byte[] toBytes(Tensor t) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        write(out, t);
        return out.toByteArray();
    }

    /** Magic, version, and the header dict padded with spaces and a newline so the data starts 64-byte aligned. */
    static byte[] header(Tensor c) {
        DType d = DType.of(c);
        String descr = d.numpyDescr();
        if (descr == null) {
            throw new IllegalArgumentException("numpy has no " + d.torchName + " type; convert the tensor (e.g. to float32) first");
        }
        long[] shape = c.sizes().vec().get();
        StringBuilder sh = new StringBuilder("(");
        for (int k = 0; k < shape.length; k++) {
            if (k > 0) sh.append(", ");
            sh.append(shape[k]);
        }
        if (shape.length == 1) sh.append(',');
        sh.append(')');
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + sh + ", }";
        int pre = 10;
        int total = (pre + dict.length() + 1 + 63) / 64 * 64;
        int major = 1;
        if (total - pre > 0xFFFF) {
            pre = 12;
            total = (pre + dict.length() + 1 + 63) / 64 * 64;
            major = 2;
        }
        int hlen = total - pre;
        StringBuilder h = new StringBuilder(dict);
        while (h.length() < hlen - 1) h.append(' ');
        h.append('\n');
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) major).put((byte) 0);
        if (major == 1) b.putShort((short) hlen);
        else b.putInt(hlen);
        b.put(h.toString().getBytes(StandardCharsets.ISO_8859_1));
        return b.array();
    }
}
