package io.udit.io;

import io.udit.engine.Engine;
import io.udit.engine.MemoryBudget;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Arrays;
import java.util.zip.CRC32;

/** Bulk copies between files/streams and tensor memory (never one element per native call), plus size checks. */
final class NativeIO {
    private NativeIO() {}

    /** Largest piece handled through one ByteBuffer. */
    static final int CHUNK = 1 << 28;
    /** Torch's own limit on dimensions. */
    static final int MAX_DIMS = 64;

    /** Upper bound on the bytes one input may make us allocate: the process-wide {@link MemoryBudget}. */
    static long maxBytes() {
        return MemoryBudget.bytes();
    }

    /** Product of the dims, validated (no negatives, no overflow, at most 64 dims). */
    static long numel(Object file, String what, long[] shape) throws CheckpointFormatException {
        if (shape.length > MAX_DIMS) {
            throw CheckpointFormatException.of(file, what + " has " + shape.length + " dimensions (max " + MAX_DIMS + ")");
        }
        long n = 1;
        for (long s : shape) {
            if (s < 0) throw CheckpointFormatException.of(file, what + " has a negative dimension in shape " + Arrays.toString(shape));
        }
        for (long s : shape) {
            try {
                n = Math.multiplyExact(n, s);
            } catch (ArithmeticException e) {
                // a zero later in the shape would still make the product overflow here first: check for it
                for (long z : shape) if (z == 0) return 0;
                throw CheckpointFormatException.of(file, what + " shape " + Arrays.toString(shape) + " overflows 64 bits");
            }
        }
        return n;
    }

    /** numel * element size, validated. */
    static long nbytes(Object file, String what, long[] shape, DType d) throws CheckpointFormatException {
        long n = numel(file, what, shape);
        try {
            return Math.multiplyExact(n, (long) d.size);
        } catch (ArithmeticException e) {
            throw CheckpointFormatException.of(file, what + " shape " + Arrays.toString(shape) + " overflows 64 bits");
        }
    }

    /** An uninitialised CPU tensor, after checking its size against the memory budget. */
    static Tensor allocate(Object file, String what, DType d, long[] shape) throws IOException {
        long bytes = nbytes(file, what, shape, d);
        checkBudget(file, what, bytes);
        Engine.init();
        try {
            return torch.empty(shape, new TensorOptions(d.type), null);
        } catch (RuntimeException e) {
            throw new IOException(file + ": could not allocate " + bytes + " bytes for " + what + ": " + e.getMessage(), e);
        }
    }

    static void checkBudget(Object file, String what, long bytes) throws CheckpointFormatException {
        if (bytes < 0 || bytes > maxBytes()) {
            throw CheckpointFormatException.of(file, what + " would need " + (bytes < 0 ? "more than 8 EiB" : MemoryBudget.human(bytes))
                    + ", more than the memory budget of " + MemoryBudget.human(maxBytes()) + " (" + MemoryBudget.DESCRIPTION + ")");
        }
    }

    /** A little-endian view of {@code len} bytes of the tensor's memory starting {@code off} bytes in. */
    static ByteBuffer view(Tensor t, long off, int len) {
        Pointer p = t.data_ptr();
        BytePointer bp = new BytePointer(p).getPointer(off);
        ByteBuffer b = bp.capacity(len).asByteBuffer();
        b.order(ByteOrder.LITTLE_ENDIAN);
        return b;
    }

    /** Fills the tensor (contiguous) with exactly its byte count from the stream; truncation is an error. */
    static void readFully(InputStream in, Tensor t, Object file, String what) throws IOException {
        try {
            readFully0(in, t, file, what);
        } finally {
            Reference.reachabilityFence(t);
        }
    }

    private static void readFully0(InputStream in, Tensor t, Object file, String what) throws IOException {
        long n = t.nbytes();
        byte[] buf = new byte[(int) Math.min(n, 1 << 22)];
        long done = 0;
        while (done < n) {
            int k = (int) Math.min(buf.length, n - done);
            int got = in.readNBytes(buf, 0, k);
            if (got < k) {
                throw CheckpointFormatException.of(file, what + " is truncated: expected " + n + " bytes of data, found " + (done + got));
            }
            view(t, done, k).put(buf, 0, k);
            done += k;
        }
    }

    /** Fills the tensor from the channel at {@code pos} (positional reads straight into tensor memory). */
    static void readFully(FileChannel ch, long pos, Tensor t, Object file, String what) throws IOException {
        try {
            readFully0(ch, pos, t, file, what);
        } finally {
            Reference.reachabilityFence(t);
        }
    }

    private static void readFully0(FileChannel ch, long pos, Tensor t, Object file, String what) throws IOException {
        long n = t.nbytes();
        long done = 0;
        while (done < n) {
            int k = (int) Math.min(CHUNK, n - done);
            ByteBuffer v = view(t, done, k);
            while (v.hasRemaining()) {
                int r = ch.read(v, pos + done + v.position());
                if (r < 0) {
                    throw CheckpointFormatException.of(file, what + " is truncated: expected " + n + " bytes of data, found "
                            + (done + v.position()));
                }
            }
            done += k;
        }
    }

    /** Copies a file region into tensor memory through read-only memory mappings of at most 1 GiB. */
    static final class MappedWindow {
        private static final long WINDOW = 1L << 30;
        private final FileChannel ch;
        private final long window;
        private final long size;
        private MappedByteBuffer win;
        private long start = -1;
        private long end = -1;

        MappedWindow(FileChannel ch, long size) {
            this(ch, size, WINDOW);
        }

        /** {@code window}: bytes mapped at a time (a multiple of 64 KiB; small values are for tests). */
        MappedWindow(FileChannel ch, long size, long window) {
            this.ch = ch;
            this.size = size;
            this.window = window;
        }

        void copy(long pos, Tensor t, Object file, String what) throws IOException {
            long n = t.nbytes();
            if (pos < 0 || pos + n > size) throw CheckpointFormatException.of(file, what + " lies outside the file");
            long done = 0;
            try {
                while (done < n) {
                    long p = pos + done;
                    if (win == null || p < start || p >= end) map(p);
                    int k = (int) Math.min(Math.min(CHUNK, n - done), end - p);
                    ByteBuffer src = win.duplicate();
                    src.position((int) (p - start)).limit((int) (p - start) + k);
                    view(t, done, k).put(src);
                    done += k;
                }
            } catch (InternalError e) {
                // SIGBUS from a file truncated while mapped
                throw new IOException(file + ": could not read " + what + " (file changed while reading?): " + e.getMessage(), e);
            } finally {
                Reference.reachabilityFence(t);
            }
        }

        private void map(long p) throws IOException {
            start = p & ~0xFFFFL;
            end = Math.min(size, start + window);
            win = ch.map(FileChannel.MapMode.READ_ONLY, start, end - start);
        }
    }

    /** Writes the tensor's bytes (contiguous CPU tensor) to the channel, updating {@code crc} if non-null. */
    static void write(FileChannel ch, Tensor t, CRC32 crc) throws IOException {
        try {
            write0(ch, t, crc);
        } finally {
            Reference.reachabilityFence(t);
        }
    }

    private static void write0(FileChannel ch, Tensor t, CRC32 crc) throws IOException {
        long n = t.nbytes();
        long done = 0;
        while (done < n) {
            int k = (int) Math.min(CHUNK, n - done);
            ByteBuffer v = view(t, done, k);
            if (crc != null) {
                crc.update(v);
                v.rewind();
            }
            AtomicFiles.writeFully(ch, v);
            done += k;
        }
    }

    /** A contiguous CPU tensor with the same values, ready to have its bytes written. */
    static Tensor prepare(Tensor t, String what) {
        if (t == null || t.isNull()) throw new IllegalArgumentException(what + " is a null tensor");
        if (t.is_sparse() || t.is_quantized() || t.layout().intern() != torch.Layout.Strided) {
            throw new IllegalArgumentException(what + ": only dense tensors can be saved");
        }
        DType.of(t); // dtype check
        Tensor c = t;
        if (!c.device().is_cpu()) c = c.cpu();
        return c.contiguous();
    }

    /** Reverses the byte order of each element (for big-endian sources). */
    static Tensor byteSwap(Tensor t, DType d) {
        if (d.size == 1 || t.numel() == 0) return t;
        long[] shape = t.sizes().vec().get();
        return t.view(ScalarType.Byte).view(-1, d.size).flip(1).contiguous().view(d.type).view(shape);
    }

    /** Bool tensors must hold only 0/1 bytes; anything else is undefined behaviour in torch. */
    static void checkBool(Tensor t, Object file, String what) throws CheckpointFormatException {
        if (t.numel() == 0) return;
        if (torch.gt(t.view(ScalarType.Byte), new Scalar(1)).any().item_bool()) {
            throw CheckpointFormatException.of(file, what + " is a bool tensor holding bytes other than 0 and 1");
        }
    }

    /** Printable, bounded rendering of an untrusted string for error messages. */
    static String printable(String s) {
        if (s == null) return "null";
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < 120; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f) b.append(String.format("\\x%02x", (int) c));
            else b.append(c);
        }
        if (b.length() >= 120) b.append("...");
        return b.toString();
    }
}
