package io.udit.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** A hand-written pickle (protocol 2 header), for hostile seeds and tests (io and fuzz tests share it). */
public final class Pk {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public Pk() {
        op(0x80).op(2);
    }

    public static Pk raw() {
        Pk p = new Pk();
        p.out.reset();
        return p;
    }

    public Pk op(int... ops) {
        for (int o : ops) out.write(o);
        return this;
    }

    public Pk text(String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        return this;
    }

    /** GLOBAL opcode: {@code c<module>\n<name>\n}. */
    public Pk global(String module, String name) {
        return op('c').text(module + "\n" + name + "\n");
    }

    /** STACK_GLOBAL with SHORT_BINUNICODE strings. */
    public Pk stackGlobal(String module, String name) {
        return shortStr(module).shortStr(name).op(0x93);
    }

    public Pk str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X').op(b.length & 0xFF, (b.length >>> 8) & 0xFF, (b.length >>> 16) & 0xFF, b.length >>> 24);
        out.writeBytes(b);
        return this;
    }

    public Pk shortStr(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op(0x8c, b.length);
        out.writeBytes(b);
        return this;
    }

    /** BININT (signed 32-bit) or LONG1 for larger values. */
    public Pk integer(long v) {
        if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            op('J');
            for (int k = 0; k < 4; k++) op((int) (v >>> (8 * k)) & 0xFF);
        } else {
            op(0x8a, 8);
            for (int k = 0; k < 8; k++) op((int) (v >>> (8 * k)) & 0xFF);
        }
        return this;
    }

    public Pk tupleOf(long... v) {
        op('(');
        for (long x : v) integer(x);
        return op('t');
    }

    /** Pushes {@code _rebuild_tensor_v2(('storage', torch.<cls>, key, 'cpu', numel), offset, size, stride, False, OrderedDict())}. */
    public Pk tensor(String storageClass, String key, long numel, long offset, long[] size, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2");
        op('(');
        op('(').str("storage").global("torch", storageClass).str(key).str("cpu").integer(numel).op('t').op('Q');
        integer(offset).tupleOf(size).tupleOf(stride).op(0x89);
        global("collections", "OrderedDict").op(')').op('R');
        return op('t').op('R');
    }

    public int size() {
        return out.size();
    }

    public byte[] bytes() {
        return out.toByteArray();
    }

    /** Ends with STOP. */
    public byte[] stop() {
        op('.');
        return bytes();
    }
}
