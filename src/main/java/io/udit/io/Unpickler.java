package io.udit.io;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A whitelist unpickler for what {@code torch.save} emits (pickle protocols 2-5). It never executes anything: globals
 * are looked up in a fixed table of harmless constructors, every other global is refused, and tensors come back as
 * {@link TensorRef} placeholders that the caller materialises after the whole pickle has been validated.
 */
final class Unpickler {
    static final int MAX_STACK = 1 << 22;
    static final int MAX_MEMO = 1 << 22;
    static final int MAX_MARKS = 1 << 16;
    /** Deepest tuple accepted as a dictionary key (hashing and checking a key recurse through it). */
    static final int MAX_KEY_DEPTH = 64;
    /**
     * Work units allowed per pickle byte. Every allocation made on behalf of the pickle is charged: each element
     * copied into a collection (marks, set/OrderedDict/Size arguments), each APPEND/SETITEM, each new container, memo
     * entry and stack push, and each character or byte of a string, so the memory a pickle can make us hold is linear
     * in its size. An honest pickle uses a few units per byte; a hostile one reuses memoised objects to amplify.
     */
    static final long WORK_PER_BYTE = 16;

    /** A whitelisted global (class or function), e.g. {@code torch.FloatStorage}. */
    record Global(String module, String name) {
        String qualified() {
            return module + "." + name;
        }
    }

    /** A storage referenced through a persistent id. */
    record StorageRef(String key, DType dtype, long numel, String location) {}

    /** {@code _rebuild_tensor_v2(storage, offset, size, stride, ...)}, validated against the storage's bounds. */
    record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {}

    /** A numpy dtype object (only simple scalar types). */
    static final class NumpyDtype {
        final String type; // e.g. f8
        char order = '<';

        NumpyDtype(String type) {
            this.type = type;
        }

        @Override
        public String toString() {
            return "numpy.dtype('" + (type.endsWith("1") ? "|" : String.valueOf(order)) + type + "')";
        }
    }

    /** Python tuple (an immutable list in the output). */
    static final class Tuple extends ArrayList<Object> {
        private static final long serialVersionUID = 1L;

        Tuple(List<Object> items) {
            super(items);
        }

        Tuple() {
            super();
        }
    }

    /** {@code argparse.Namespace}: its attributes become map entries. */
    static final class Namespace extends LinkedHashMap<Object, Object> {
        private static final long serialVersionUID = 1L;
    }

    /** Resolves a persistent id (the tuple torch writes) to a {@link StorageRef}. */
    interface PersistentLoader {
        StorageRef load(Object pid) throws CheckpointFormatException;
    }

    private static final Set<String> STORAGES = Set.of("FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage",
            "LongStorage", "IntStorage", "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage", "UntypedStorage");

    private static final Set<String> TORCH_DTYPES = Set.of("float32", "float64", "float16", "bfloat16", "int64", "int32",
            "int16", "int8", "uint8", "bool", "float", "double", "half", "long", "int", "short", "complex64", "complex128");

    private final Object source;
    private final byte[] b;
    private final PersistentLoader persistent;
    private int p;
    private final ArrayList<Object> stack = new ArrayList<>();
    private int[] marks = new int[16];
    private int nmarks;
    private final HashMap<Long, Object> memo = new HashMap<>();
    private final long maxWork;
    private long work;

    Unpickler(Object source, byte[] data, PersistentLoader persistent) {
        this.source = source;
        this.b = data;
        this.persistent = persistent;
        this.maxWork = WORK_PER_BYTE * data.length + (1 << 20);
    }

    /** Counts {@code n} element copies against the pickle's budget. */
    private void charge(long n) throws CheckpointFormatException {
        work += n;
        if (work > maxWork) {
            throw bad("pickle asks for more work than " + WORK_PER_BYTE + " units per byte of pickle ("
                    + maxWork + " units): a memoised object reused to amplify a small file?");
        }
    }

    CheckpointFormatException err(String m) {
        return CheckpointFormatException.of(source, m);
    }

    private CheckpointFormatException bad(String m) {
        return err("malformed pickle at byte " + p + ": " + m);
    }

    Object load() throws CheckpointFormatException {
        try {
            return run();
        } catch (IndexOutOfBoundsException | ClassCastException | ArithmeticException | NegativeArraySizeException e) {
            throw err("malformed pickle near byte " + p + ": " + e);
        }
    }

    private Object run() throws CheckpointFormatException {
        while (true) {
            if (p >= b.length) throw err("pickle is truncated (no STOP opcode)");
            int at = p;
            int op = b[p++] & 0xFF;
            switch (op) {
                case 0x80 -> { // PROTO
                    int v = u1();
                    if (v > 5) throw bad("unsupported pickle protocol " + v);
                }
                case 0x95 -> { // FRAME
                    long n = u8();
                    if (n < 0 || n > b.length - p) throw bad("frame of " + n + " bytes exceeds the data");
                }
                case '.' -> { // STOP
                    if (stack.size() != 1 || nmarks != 0) throw bad("STOP with " + stack.size() + " stack items");
                    return stack.get(0);
                }
                case '}' -> push(new LinkedHashMap<Object, Object>());
                case ']' -> push(new ArrayList<Object>());
                case ')' -> push(new Tuple());
                case 0x8f -> push(new ArrayList<Object>()); // EMPTY_SET: a list in the output
                case '(' -> mark();
                case 'd' -> { // DICT
                    List<Object> items = popMark();
                    if (items.size() % 2 != 0) throw bad("DICT with an odd number of items");
                    LinkedHashMap<Object, Object> m = new LinkedHashMap<>();
                    for (int k = 0; k < items.size(); k += 2) m.put(key(items.get(k)), items.get(k + 1));
                    push(m);
                }
                case 'l' -> push(new ArrayList<>(popMark())); // LIST
                case 't' -> push(new Tuple(popMark())); // TUPLE
                case 0x91 -> push(new ArrayList<>(popMark())); // FROZENSET
                case 0x85 -> push(tupleOf(1));
                case 0x86 -> push(tupleOf(2));
                case 0x87 -> push(tupleOf(3));
                case 'X' -> push(utf8(len4()));
                case 0x8c -> push(utf8(u1())); // SHORT_BINUNICODE
                case 0x8d -> push(utf8(len8())); // BINUNICODE8
                case 'T' -> push(latin1(len4())); // BINSTRING (python 2 str)
                case 'U' -> push(latin1(u1())); // SHORT_BINSTRING
                case 'B' -> push(bytes(len4())); // BINBYTES
                case 'C' -> push(bytes(u1())); // SHORT_BINBYTES
                case 0x8e -> push(bytes(len8())); // BINBYTES8
                case 0x96 -> push(bytes(len8())); // BYTEARRAY8
                case 'q' -> memoPut(u1());
                case 'r' -> memoPut(u4());
                case 0x94 -> memoPut(memo.size()); // MEMOIZE
                case 'p' -> memoPut(decimalLine()); // PUT
                case 'h' -> push(memoGet(u1()));
                case 'j' -> push(memoGet(u4()));
                case 'g' -> push(memoGet(decimalLine())); // GET
                case 'c' -> { // GLOBAL
                    String module = line();
                    String name = line();
                    push(global(module, name));
                }
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) throw bad("STACK_GLOBAL needs two strings");
                    push(global(m, n));
                }
                case 'R' -> { // REDUCE
                    Object args = pop();
                    Object fn = pop();
                    push(call(fn, args));
                }
                case 0x81 -> { // NEWOBJ
                    Object args = pop();
                    Object cls = pop();
                    push(newObject(cls, args, null));
                }
                case 0x92 -> { // NEWOBJ_EX
                    Object kwargs = pop();
                    Object args = pop();
                    Object cls = pop();
                    push(newObject(cls, args, kwargs));
                }
                case 'b' -> { // BUILD
                    Object state = pop();
                    build(peek(), state);
                }
                case 's' -> { // SETITEM
                    charge(1);
                    Object v = pop();
                    Object k = pop();
                    dictTarget().put(key(k), v);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark();
                    if (items.size() % 2 != 0) throw bad("SETITEMS with an odd number of items");
                    Map<Object, Object> m = dictTarget();
                    charge(items.size());
                    for (int k = 0; k < items.size(); k += 2) m.put(key(items.get(k)), items.get(k + 1));
                }
                case 'a' -> { // APPEND
                    charge(1);
                    Object v = pop();
                    listTarget().add(v);
                }
                case 'e', 0x90 -> { // APPENDS, ADDITEMS
                    List<Object> items = popMark();
                    charge(items.size());
                    listTarget().addAll(items);
                }
                case 'J' -> push((long) i4());
                case 'K' -> push((long) u1());
                case 'M' -> push((long) u2());
                case 0x8a -> push(longBytes(u1())); // LONG1
                case 0x8b -> { // LONG4
                    long n = u4();
                    if (n > 64) throw bad("integer of " + n + " bytes is out of 64-bit range");
                    push(longBytes((int) n));
                }
                case 'I' -> { // INT (text)
                    String s = line();
                    if (s.equals("01")) push(Boolean.TRUE);
                    else if (s.equals("00")) push(Boolean.FALSE);
                    else push(parseLong(s));
                }
                case 'L' -> { // LONG (text)
                    String s = line();
                    if (s.endsWith("L")) s = s.substring(0, s.length() - 1);
                    push(parseLong(s));
                }
                case 'G' -> push(ByteBuffer.wrap(take(8)).getDouble()); // BINFLOAT, big-endian
                case 'F' -> { // FLOAT (text)
                    String s = line();
                    try {
                        push(Double.parseDouble(s));
                    } catch (NumberFormatException e) {
                        throw bad("invalid float literal");
                    }
                }
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'N' -> push(null);
                case 'Q' -> push(persistent.load(pop())); // BINPERSID
                case '0' -> pop(); // POP
                case '2' -> push(peek()); // DUP
                case '1' -> popMark(); // POP_MARK
                default -> throw err("malformed or unsupported pickle: opcode " + opName(op) + " at byte " + at
                        + " is not allowed in a checkpoint");
            }
        }
    }

    private static String opName(int op) {
        String n = switch (op) {
            case 'i' -> "INST";
            case 'o' -> "OBJ";
            case 'P' -> "PERSID";
            case 0x82, 0x83, 0x84 -> "EXT";
            case 0x97 -> "NEXT_BUFFER";
            case 0x98 -> "READONLY_BUFFER";
            case 'S' -> "STRING";
            case 'V' -> "UNICODE";
            default -> null;
        };
        String hex = String.format("0x%02x", op);
        return n == null ? hex : n + " (" + hex + ")";
    }

    // ---- stack ----

    private void push(Object o) throws CheckpointFormatException {
        charge(1);
        if (stack.size() >= MAX_STACK) throw err("pickle stack exceeds " + MAX_STACK + " items");
        stack.add(o);
    }

    private Object pop() throws CheckpointFormatException {
        int base = nmarks > 0 ? marks[nmarks - 1] : 0;
        if (stack.size() <= base) throw bad("stack underflow");
        return stack.remove(stack.size() - 1);
    }

    private Object peek() throws CheckpointFormatException {
        int base = nmarks > 0 ? marks[nmarks - 1] : 0;
        if (stack.size() <= base) throw bad("stack underflow");
        return stack.get(stack.size() - 1);
    }

    private void mark() throws CheckpointFormatException {
        if (nmarks >= MAX_MARKS) throw err("pickle nests more than " + MAX_MARKS + " marks");
        if (nmarks == marks.length) marks = Arrays.copyOf(marks, nmarks * 2);
        marks[nmarks++] = stack.size();
    }

    private List<Object> popMark() throws CheckpointFormatException {
        if (nmarks == 0) throw bad("no MARK on the stack");
        int m = marks[--nmarks];
        List<Object> tail = stack.subList(m, stack.size());
        charge(tail.size());
        ArrayList<Object> items = new ArrayList<>(tail);
        tail.clear();
        return items;
    }

    private Tuple tupleOf(int n) throws CheckpointFormatException {
        Object[] a = new Object[n];
        for (int k = n - 1; k >= 0; k--) a[k] = pop();
        return new Tuple(Arrays.asList(a));
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dictTarget() throws CheckpointFormatException {
        Object t = peek();
        if (t instanceof Map<?, ?> m) return (Map<Object, Object>) m;
        throw bad("SETITEM(S) on a " + typeName(t));
    }

    @SuppressWarnings("unchecked")
    private List<Object> listTarget() throws CheckpointFormatException {
        Object t = peek();
        if (t instanceof List<?> l && !(t instanceof Tuple)) return (List<Object>) l;
        throw bad("APPEND(S) on a " + typeName(t));
    }

    private Object key(Object k) throws CheckpointFormatException {
        return key(k, 0);
    }

    private Object key(Object k, int depth) throws CheckpointFormatException {
        if (k == null || k instanceof String || k instanceof Long || k instanceof Double || k instanceof Boolean) return k;
        if (k instanceof Tuple t) {
            if (depth >= MAX_KEY_DEPTH) throw bad("dictionary key is a tuple nested deeper than " + MAX_KEY_DEPTH);
            charge(t.size());
            for (Object o : t) key(o, depth + 1);
            return k;
        }
        throw bad("unsupported dictionary key of type " + typeName(k));
    }

    /** A bounded, non-recursive rendering of an untrusted value for messages (a string's text, else its type). */
    static String brief(Object o) {
        return o instanceof String s ? "'" + NativeIO.printable(s) + "'" : o instanceof Long || o instanceof Double
                || o instanceof Boolean ? String.valueOf(o) : typeName(o);
    }

    static String typeName(Object o) {
        if (o == null) return "None";
        if (o instanceof Global g) return g.qualified();
        if (o instanceof Tuple) return "tuple";
        if (o instanceof Namespace) return "argparse.Namespace";
        if (o instanceof Map) return "dict";
        if (o instanceof List) return "list";
        if (o instanceof String) return "str";
        if (o instanceof Long) return "int";
        if (o instanceof Double) return "float";
        if (o instanceof Boolean) return "bool";
        if (o instanceof byte[]) return "bytes";
        if (o instanceof TensorRef) return "tensor";
        if (o instanceof StorageRef) return "storage";
        return o.getClass().getSimpleName();
    }

    // ---- memo ----

    private void memoPut(long idx) throws CheckpointFormatException {
        charge(1);
        if (memo.size() >= MAX_MEMO && !memo.containsKey(idx)) throw err("pickle memo exceeds " + MAX_MEMO + " entries");
        memo.put(idx, peek());
    }

    private Object memoGet(long idx) throws CheckpointFormatException {
        if (!memo.containsKey(idx)) throw bad("memo entry " + idx + " not defined");
        return memo.get(idx);
    }

    // ---- reading primitives ----

    private int u1() throws CheckpointFormatException {
        need(1);
        return b[p++] & 0xFF;
    }

    private int u2() throws CheckpointFormatException {
        need(2);
        int v = (b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8;
        p += 2;
        return v;
    }

    private int i4() throws CheckpointFormatException {
        need(4);
        int v = (b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8 | (b[p + 2] & 0xFF) << 16 | (b[p + 3] & 0xFF) << 24;
        p += 4;
        return v;
    }

    private long u4() throws CheckpointFormatException {
        return i4() & 0xFFFFFFFFL;
    }

    private long u8() throws CheckpointFormatException {
        long lo = u4();
        long hi = u4();
        return lo | hi << 32;
    }

    private int len4() throws CheckpointFormatException {
        long n = u4();
        if (n > b.length - p) throw bad("length " + n + " exceeds the remaining " + (b.length - p) + " bytes");
        return (int) n;
    }

    private int len8() throws CheckpointFormatException {
        long n = u8();
        if (n < 0 || n > b.length - p) throw bad("length " + Long.toUnsignedString(n) + " exceeds the remaining data");
        return (int) n;
    }

    private void need(int n) throws CheckpointFormatException {
        if (b.length - p < n) throw err("pickle is truncated at byte " + p);
    }

    private byte[] take(int n) throws CheckpointFormatException {
        need(n);
        charge(n);
        byte[] out = Arrays.copyOfRange(b, p, p + n);
        p += n;
        return out;
    }

    private String utf8(int n) throws CheckpointFormatException {
        need(n);
        charge(n);
        try {
            // pickle writes lone surrogates as 3-byte sequences (surrogatepass); a strict decoder rejects them
            CharBuffer cb = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b, p, n));
            p += n;
            return cb.toString();
        } catch (CharacterCodingException e) {
            throw bad("string is not valid UTF-8");
        }
    }

    private String latin1(int n) throws CheckpointFormatException {
        need(n);
        charge(n);
        String s = new String(b, p, n, StandardCharsets.ISO_8859_1);
        p += n;
        return s;
    }

    private byte[] bytes(int n) throws CheckpointFormatException {
        return take(n);
    }

    private String line() throws CheckpointFormatException {
        int start = p;
        while (p < b.length && b[p] != '\n') {
            if (p - start > 4096) throw bad("text line too long");
            p++;
        }
        if (p >= b.length) throw err("pickle is truncated at byte " + p);
        String s = new String(b, start, p - start, StandardCharsets.UTF_8);
        p++;
        return s;
    }

    private long decimalLine() throws CheckpointFormatException {
        long v = parseLong(line());
        if (v < 0) throw bad("negative memo index");
        return v;
    }

    private Long parseLong(String s) throws CheckpointFormatException {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw bad("invalid or out-of-range integer literal '" + NativeIO.printable(s) + "'");
        }
    }

    private Long longBytes(int n) throws CheckpointFormatException {
        byte[] le = take(n);
        if (n == 0) return 0L;
        byte[] be = new byte[n];
        for (int k = 0; k < n; k++) be[k] = le[n - 1 - k];
        BigInteger v = new BigInteger(be);
        if (v.bitLength() > 63) throw bad("integer " + (n > 20 ? "of " + n + " bytes" : v.toString()) + " is out of 64-bit range");
        return v.longValue();
    }

    // ---- globals and calls (the whitelist) ----

    private Global global(String module, String name) throws CheckpointFormatException {
        String q = module + "." + name;
        boolean ok = switch (module) {
            case "collections" -> name.equals("OrderedDict");
            case "torch._utils" -> name.equals("_rebuild_tensor_v2") || name.equals("_rebuild_tensor")
                    || name.equals("_rebuild_parameter") || name.equals("_rebuild_parameter_with_state");
            case "torch" -> STORAGES.contains(name) || TORCH_DTYPES.contains(name) || name.equals("device") || name.equals("Size");
            case "argparse" -> name.equals("Namespace");
            case "_codecs" -> name.equals("encode");
            case "builtins", "__builtin__" -> name.equals("set") || name.equals("frozenset") || name.equals("bytes")
                    || name.equals("bytearray");
            case "numpy.core.multiarray", "numpy._core.multiarray" -> name.equals("scalar");
            case "numpy" -> name.equals("dtype");
            default -> false;
        };
        if (!ok) {
            throw err("refusing to load: pickle references forbidden global '" + NativeIO.printable(q) + "'");
        }
        return new Global(module, name);
    }

    private Object call(Object fn, Object argsObj) throws CheckpointFormatException {
        if (!(fn instanceof Global g)) throw bad("REDUCE on a " + typeName(fn) + ", not a callable");
        if (!(argsObj instanceof Tuple args)) throw bad("REDUCE arguments are a " + typeName(argsObj) + ", not a tuple");
        String q = g.qualified();
        switch (q) {
            case "collections.OrderedDict": {
                LinkedHashMap<Object, Object> m = new LinkedHashMap<>();
                if (args.isEmpty()) return m;
                if (args.size() == 1 && args.get(0) instanceof List<?> pairs) {
                    charge(pairs.size());
                    for (Object pr : pairs) {
                        if (!(pr instanceof List<?> kv) || kv.size() != 2) throw bad("OrderedDict item is not a pair");
                        m.put(key(kv.get(0)), kv.get(1));
                    }
                    return m;
                }
                throw bad("unexpected OrderedDict arguments");
            }
            case "torch._utils._rebuild_tensor_v2":
            case "torch._utils._rebuild_tensor":
                return rebuildTensor(args, q.endsWith("v2"));
            case "torch._utils._rebuild_parameter":
            case "torch._utils._rebuild_parameter_with_state": {
                if (args.size() < 3 || !(args.get(0) instanceof TensorRef t)) throw bad(g.name() + " without a tensor");
                return t;
            }
            case "argparse.Namespace":
                if (!args.isEmpty()) throw bad("argparse.Namespace with positional arguments");
                return new Namespace();
            case "_codecs.encode":
                return encode(args);
            case "builtins.bytes":
            case "__builtin__.bytes":
            case "builtins.bytearray":
            case "__builtin__.bytearray":
                if (args.isEmpty()) return new byte[0];
                if (args.size() == 1 && args.get(0) instanceof byte[] bs) return bs;
                throw bad(q + " only accepts no arguments or bytes");
            case "builtins.set":
            case "__builtin__.set":
            case "builtins.frozenset":
            case "__builtin__.frozenset":
                if (args.isEmpty()) return new ArrayList<>();
                if (args.size() == 1 && args.get(0) instanceof List<?> l) {
                    charge(l.size());
                    return new ArrayList<Object>(l);
                }
                throw bad(q + " only accepts no arguments or a list");
            case "torch.device":
                if (args.size() == 1 && args.get(0) instanceof String s) return s;
                if (args.size() == 2 && args.get(0) instanceof String s && args.get(1) instanceof Long i) return s + ":" + i;
                throw bad("unexpected torch.device arguments");
            case "torch.Size":
                if (args.size() == 1 && args.get(0) instanceof List<?> l) {
                    charge(l.size());
                    for (Object o : l) if (!(o instanceof Long)) throw bad("torch.Size of non-integers");
                    return new Tuple(new ArrayList<Object>(l));
                }
                throw bad("unexpected torch.Size arguments");
            case "numpy.dtype":
                return numpyDtype(args);
            case "numpy.core.multiarray.scalar":
            case "numpy._core.multiarray.scalar":
                return numpyScalar(args);
            default:
                throw err("refusing to load: pickle calls '" + NativeIO.printable(q) + "', which cannot be called");
        }
    }

    private Object newObject(Object cls, Object args, Object kwargs) throws CheckpointFormatException {
        if (!(cls instanceof Global g)) throw bad("NEWOBJ on a " + typeName(cls));
        if (!(args instanceof Tuple t)) throw bad("NEWOBJ arguments are not a tuple");
        if (kwargs != null && !(kwargs instanceof Map<?, ?> m && m.isEmpty())) throw bad("NEWOBJ_EX with keyword arguments");
        switch (g.qualified()) {
            case "argparse.Namespace":
                if (!t.isEmpty()) throw bad("argparse.Namespace with positional arguments");
                return new Namespace();
            case "collections.OrderedDict":
                if (!t.isEmpty()) throw bad("OrderedDict.__new__ with arguments");
                return new LinkedHashMap<Object, Object>();
            default:
                throw err("refusing to load: pickle instantiates '" + NativeIO.printable(g.qualified())
                        + "', which is not an allowed class");
        }
    }

    private void build(Object obj, Object state) throws CheckpointFormatException {
        if (obj instanceof Namespace ns) {
            if (state instanceof Map<?, ?> m) {
                putAttributes(ns, m);
                return;
            }
            if (state instanceof Tuple t && t.size() == 2) {
                for (Object part : t) {
                    if (part == null) continue;
                    if (!(part instanceof Map<?, ?> m)) throw bad("Namespace state is not a dict");
                    putAttributes(ns, m);
                }
                return;
            }
            throw bad("Namespace state is a " + typeName(state));
        }
        if (obj instanceof Map) {
            // attributes of a dict subclass, e.g. the _metadata of a state_dict: not items, dropped
            if (state == null || state instanceof Map) return;
            if (state instanceof Tuple t && t.size() == 2) return;
            throw bad("dict state is a " + typeName(state));
        }
        if (obj instanceof TensorRef) {
            // tensor python attributes (rare): ignored
            return;
        }
        if (obj instanceof NumpyDtype dt) {
            if (state instanceof Tuple t && t.size() >= 2 && t.get(1) instanceof String order && order.length() == 1) {
                char c = order.charAt(0);
                if (c != '<' && c != '>' && c != '|' && c != '=') throw bad("numpy dtype byte order '" + order + "'");
                dt.order = c == '=' ? '<' : c;
                return;
            }
            throw bad("unexpected numpy dtype state");
        }
        throw bad("BUILD on a " + typeName(obj) + " is not supported");
    }

    private void putAttributes(Namespace ns, Map<?, ?> m) throws CheckpointFormatException {
        for (Map.Entry<?, ?> e : m.entrySet()) ns.put(key(e.getKey()), e.getValue());
    }

    private Object encode(Tuple args) throws CheckpointFormatException {
        if (args.isEmpty() || !(args.get(0) instanceof String s)) throw bad("_codecs.encode needs a string");
        charge(s.length());
        String enc = args.size() > 1 && args.get(1) instanceof String e ? e.toLowerCase().replace('_', '-') : "utf-8";
        switch (enc) {
            case "latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1":
                for (int k = 0; k < s.length(); k++) if (s.charAt(k) > 0xFF) throw bad("latin1 string with a code point > 255");
                return s.getBytes(StandardCharsets.ISO_8859_1);
            case "utf-8", "utf8":
                return s.getBytes(StandardCharsets.UTF_8);
            case "ascii":
                for (int k = 0; k < s.length(); k++) if (s.charAt(k) > 0x7F) throw bad("ascii string with a code point > 127");
                return s.getBytes(StandardCharsets.US_ASCII);
            default:
                throw bad("_codecs.encode with unsupported encoding '" + NativeIO.printable(enc) + "'");
        }
    }

    private Object numpyDtype(Tuple args) throws CheckpointFormatException {
        if (args.isEmpty() || !(args.get(0) instanceof String s)) throw bad("numpy.dtype needs a type string");
        String t = s;
        if (!t.isEmpty() && "<>|=".indexOf(t.charAt(0)) >= 0) t = t.substring(1);
        if (!t.matches("[fiub][1248]") || t.equals("f1") || t.equals("b2") || t.equals("b4") || t.equals("b8")) {
            throw bad("numpy dtype '" + NativeIO.printable(s) + "' is not supported");
        }
        NumpyDtype d = new NumpyDtype(t);
        if (s.startsWith(">")) d.order = '>';
        return d;
    }

    private Object numpyScalar(Tuple args) throws CheckpointFormatException {
        if (args.size() != 2 || !(args.get(0) instanceof NumpyDtype d) || !(args.get(1) instanceof byte[] raw)) {
            throw bad("unexpected numpy scalar arguments");
        }
        int size = d.type.charAt(1) - '0';
        if (raw.length != size) throw bad("numpy scalar of " + raw.length + " bytes for dtype " + d);
        ByteBuffer bb = ByteBuffer.wrap(raw).order(d.order == '>' ? java.nio.ByteOrder.BIG_ENDIAN : java.nio.ByteOrder.LITTLE_ENDIAN);
        char kind = d.type.charAt(0);
        switch (kind) {
            case 'f':
                return switch (size) {
                    case 2 -> (double) Half.toFloat(bb.getShort());
                    case 4 -> (double) bb.getFloat();
                    default -> bb.getDouble();
                };
            case 'i':
                return switch (size) {
                    case 1 -> (long) bb.get();
                    case 2 -> (long) bb.getShort();
                    case 4 -> (long) bb.getInt();
                    default -> bb.getLong();
                };
            case 'u':
                switch (size) {
                    case 1: return (long) (bb.get() & 0xFF);
                    case 2: return (long) (bb.getShort() & 0xFFFF);
                    case 4: return bb.getInt() & 0xFFFFFFFFL;
                    default:
                        long v = bb.getLong();
                        if (v < 0) throw bad("numpy uint64 scalar out of 64-bit signed range");
                        return v;
                }
            default:
                if (raw[0] != 0 && raw[0] != 1) throw bad("numpy bool scalar is not 0 or 1");
                return raw[0] == 1;
        }
    }

    /** Half-precision decoding (Java 17 has no Float.float16ToFloat). */
    private static final class Half {
        static float toFloat(short h) {
            int bits = h & 0xFFFF;
            int sign = (bits & 0x8000) << 16;
            int exp = (bits >>> 10) & 0x1F;
            int mant = bits & 0x3FF;
            if (exp == 0x1F) return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
            if (exp == 0) {
                float v = mant * (1f / (1 << 24));
                return sign != 0 ? -v : v;
            }
            return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
        }
    }

    private TensorRef rebuildTensor(Tuple args, boolean v2) throws CheckpointFormatException {
        if (args.size() < 4 || (v2 && (args.size() < 6 || args.size() > 7))) {
            throw bad("_rebuild_tensor with " + args.size() + " arguments");
        }
        if (!(args.get(0) instanceof StorageRef s)) throw bad("tensor storage is a " + typeName(args.get(0)));
        if (!(args.get(1) instanceof Long off)) throw bad("tensor storage offset is not an integer");
        long[] size = longs(args.get(2), "size");
        long[] stride = longs(args.get(3), "stride");
        if (size.length != stride.length) {
            throw err("tensor size " + Arrays.toString(size) + " and stride " + Arrays.toString(stride) + " differ in length");
        }
        long numel = NativeIO.numel(source, "tensor of storage '" + s.key() + "'", size);
        for (long st : stride) {
            if (st < 0) throw err("tensor of storage '" + s.key() + "' has a negative stride " + Arrays.toString(stride));
        }
        if (off < 0) throw err("tensor of storage '" + s.key() + "' has a negative storage offset " + off);
        if (numel > 0) {
            long last;
            try {
                last = off;
                for (int k = 0; k < size.length; k++) last = Math.addExact(last, Math.multiplyExact(size[k] - 1, stride[k]));
            } catch (ArithmeticException e) {
                throw err("tensor of storage '" + s.key() + "' has an overflowing size/stride");
            }
            if (last >= s.numel()) {
                throw err("tensor of storage '" + s.key() + "' (offset " + off + ", size " + Arrays.toString(size) + ", stride "
                        + Arrays.toString(stride) + ") reaches element " + last + " but the storage holds only " + s.numel());
            }
        } else if (off > s.numel()) {
            throw err("tensor of storage '" + s.key() + "' has storage offset " + off + " beyond its " + s.numel() + " elements");
        }
        return new TensorRef(s, off, size, stride);
    }

    private long[] longs(Object o, String what) throws CheckpointFormatException {
        if (!(o instanceof List<?> l)) throw bad("tensor " + what + " is a " + typeName(o));
        if (l.size() > NativeIO.MAX_DIMS) throw err("tensor " + what + " has " + l.size() + " dimensions (max " + NativeIO.MAX_DIMS + ")");
        long[] out = new long[l.size()];
        for (int k = 0; k < out.length; k++) {
            if (!(l.get(k) instanceof Long v)) throw bad("tensor " + what + " holds a " + typeName(l.get(k)));
            out[k] = v;
        }
        return out;
    }

    static boolean isStorageClass(Object o) {
        return o instanceof Global g && g.module().equals("torch") && STORAGES.contains(g.name());
    }
}
