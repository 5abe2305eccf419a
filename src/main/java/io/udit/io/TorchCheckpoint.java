package io.udit.io;

import io.udit.engine.Engine;
import io.udit.engine.MemoryBudget;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;

/**
 * Reads {@code torch.save} checkpoints (zip format, torch >= 1.6) without executing anything: a whitelist unpickler
 * rebuilds the object tree and tensors are copied from their storage entries with every bound checked.
 *
 * <p>Output types: dict/OrderedDict/Namespace: {@code LinkedHashMap<Object,Object>} (keys usually String; ints are
 * Long); list/tuple/set: {@code List<Object>}; int: Long; float: Double; str: String; bool: Boolean; bytes: byte[];
 * None: null; tensor/parameter: a CPU contiguous {@link Tensor} in its saved dtype; torch dtypes and devices: String.
 */
public final class TorchCheckpoint {
    private TorchCheckpoint() {}

    /** The largest data.pkl accepted. */
    public static final long MAX_PICKLE_BYTES = 1L << 30;
    static final int MAX_DEPTH = 200;
    /**
     * Tensors that are strided views (not plain reshapes) of their storage are copied out; together they may take the
     * file's size plus this much. Honest checkpoints hold contiguous tensors; a stride-0 view of one element could
     * otherwise turn a 400-byte file into gigabytes.
     */
    static final long VIEW_SLACK = 64L << 20;

    /** Reads the whole object tree of a torch.save file. */
    public static Object read(Path file) throws IOException {
        Engine.init();
        try (Reader r = new Reader(file)) {
            return r.read();
        }
    }

    /**
     * The state dict of a checkpoint: the top object itself when it is a state dict (all values tensors), else the
     * entry {@code key} of a training checkpoint ({@code null}: "ema" when present, else "model", else "state_dict").
     */
    public static LinkedHashMap<String, Tensor> readStateDict(Path file, String key) throws IOException {
        return stateDictOf(read(file), file, key);
    }

    /** The state dict of an already read tree (see {@link #readStateDict}), with its names checked. */
    public static LinkedHashMap<String, Tensor> stateDictOf(Object tree, Path file, String key) throws CheckpointFormatException {
        LinkedHashMap<String, Tensor> sd = stateDict(tree, file, key);
        TensorNames.checkRead(file, sd.keySet());
        return sd;
    }

    /** True for a map whose keys are all strings and whose values are all tensors. */
    public static boolean isStateDict(Object o) {
        if (!(o instanceof Map<?, ?> m)) return false;
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getKey() instanceof String) || !(e.getValue() instanceof Tensor)) return false;
        }
        return true;
    }

    static final List<String> DEFAULT_KEYS = List.of("ema", "model", "state_dict");

    @SuppressWarnings("unchecked")
    static LinkedHashMap<String, Tensor> stateDict(Object top, Object file, String key) throws CheckpointFormatException {
        if (!(top instanceof Map<?, ?> m)) {
            throw CheckpointFormatException.of(file, "checkpoint holds a " + describe(top) + ", not a state dict or a dict of them");
        }
        if (isStateDict(m) && (key == null || !m.containsKey(key))) {
            return new LinkedHashMap<>((Map<String, Tensor>) m);
        }
        String chosen = key;
        if (chosen == null) {
            for (String k : DEFAULT_KEYS) {
                if (m.get(k) != null) {
                    chosen = k;
                    break;
                }
            }
            if (chosen == null) {
                throw CheckpointFormatException.of(file, "no state dict found: expected the checkpoint itself to be one or to hold "
                        + "'ema', 'model' or 'state_dict'; available keys: " + keys(m));
            }
        }
        if (!m.containsKey(chosen)) {
            throw CheckpointFormatException.of(file, "checkpoint has no '" + chosen + "'; available keys: " + keys(m));
        }
        Object v = m.get(chosen);
        if (!isStateDict(v)) {
            throw CheckpointFormatException.of(file, "'" + chosen + "' is not a state dict (it is a " + describe(v) + ")");
        }
        return new LinkedHashMap<>((Map<String, Tensor>) v);
    }

    private static String keys(Map<?, ?> m) {
        List<String> out = new ArrayList<>();
        for (Object k : m.keySet()) {
            if (out.size() == 50) {
                out.add("... (" + m.size() + " keys)");
                break;
            }
            out.add(NativeIO.printable(String.valueOf(k)));
        }
        return out.toString();
    }

    private static String describe(Object v) {
        if (v == null) return "None";
        if (v instanceof Tensor) return "tensor";
        if (v instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getKey() instanceof String)) return "dict with a non-string key " + NativeIO.printable(String.valueOf(e.getKey()));
                if (!(e.getValue() instanceof Tensor)) {
                    return "dict whose entry '" + NativeIO.printable((String) e.getKey()) + "' is a " + describe(e.getValue());
                }
            }
            return "dict";
        }
        if (v instanceof List) return "list";
        if (v instanceof String) return "str";
        if (v instanceof Long) return "int";
        if (v instanceof Double) return "float";
        if (v instanceof Boolean) return "bool";
        if (v instanceof byte[]) return "bytes";
        return v.getClass().getSimpleName();
    }

    /** One read of one file. */
    private static final class Reader implements AutoCloseable {
        final Path file;
        ZipArchive zip;
        String prefix;
        final HashMap<String, Unpickler.StorageRef> refs = new HashMap<>();
        final HashMap<String, Tensor> storages = new HashMap<>();
        final IdentityHashMap<Object, Object> done = new IdentityHashMap<>();
        final IdentityHashMap<Object, Boolean> onPath = new IdentityHashMap<>();
        /** Nodes each pickled object stands for once shared references are expanded (what a walker of the tree visits). */
        final IdentityHashMap<Object, Long> expanded = new IdentityHashMap<>();
        long maxExpanded;
        long allocated;
        /** Bytes of tensors copied out of views, bounded by the file's own size plus {@link #VIEW_SLACK}. */
        long copied;
        long fileSize;

        Reader(Path file) {
            this.file = file;
        }

        Object read() throws IOException {
            Sniff.requireRegularFile(file);
            long size = Files.size(file);
            fileSize = size;
            byte[] head = Sniff.head(file, 512);
            if (!Sniff.isZip(head)) {
                if (Sniff.isLegacyTorch(head)) throw CheckpointFormatException.of(file, Sniff.LEGACY_TORCH);
                throw CheckpointFormatException.of(file, "not a torch.save checkpoint: the file is " + Sniff.describe(head, size)
                        + ", not a zip archive");
            }
            zip = ZipArchive.open(file);
            findPrefix();
            checkByteOrder();
            ZipEntry pklEntry = zip.entry(prefix + "data.pkl");
            byte[] pkl = zip.readAll(pklEntry, MAX_PICKLE_BYTES);
            Object top = new Unpickler(file, pkl, this::persistentLoad).load();
            maxExpanded = Unpickler.WORK_PER_BYTE * pkl.length + (1 << 20);
            return materialize(top, 0);
        }

        private void findPrefix() throws CheckpointFormatException {
            List<String> pkls = new ArrayList<>();
            boolean npy = false;
            boolean script = false;
            for (String n : zip.names()) {
                int slash = n.indexOf('/');
                if (n.endsWith("/data.pkl") && slash == n.length() - "/data.pkl".length()) pkls.add(n);
                if (n.equals("data.pkl")) pkls.add(n);
                if (n.endsWith(".npy")) npy = true;
                if (n.endsWith("/constants.pkl") || n.contains("/code/")) script = true;
            }
            if (script) {
                throw CheckpointFormatException.of(file, "this is a TorchScript archive (torch.jit.save), not a torch.save checkpoint");
            }
            if (pkls.isEmpty()) {
                throw CheckpointFormatException.of(file, "not a torch.save checkpoint: the zip archive has no data.pkl"
                        + (npy ? " (it holds .npy entries: an npz archive?)" : ""));
            }
            if (pkls.size() > 1) throw CheckpointFormatException.of(file, "zip archive holds several data.pkl entries: " + pkls);
            String p = pkls.get(0);
            prefix = p.substring(0, p.length() - "data.pkl".length());
        }

        private void checkByteOrder() throws IOException {
            ZipEntry e = zip.entry(prefix + "byteorder");
            if (e != null) {
                String order = new String(zip.readAll(e, 64), StandardCharsets.US_ASCII).trim();
                if (order.equals("big")) {
                    throw CheckpointFormatException.of(file, "big-endian checkpoints are not supported (byteorder = big)");
                }
                if (!order.equals("little")) {
                    throw CheckpointFormatException.of(file, "unknown byteorder '" + NativeIO.printable(order) + "'");
                }
            }
            ZipEntry v = zip.entry(prefix + "version");
            if (v == null) v = zip.entry(prefix + ".data/version");
            if (v != null) {
                String ver = new String(zip.readAll(v, 64), StandardCharsets.US_ASCII).trim();
                if (!ver.matches("[0-9]{1,3}")) {
                    throw CheckpointFormatException.of(file, "unreadable archive version '" + NativeIO.printable(ver) + "'");
                }
            }
        }

        private Unpickler.StorageRef persistentLoad(Object pid) throws CheckpointFormatException {
            if (!(pid instanceof List<?> t) || t.size() != 5 || !"storage".equals(t.get(0))) {
                throw CheckpointFormatException.of(file, "unsupported persistent id "
                        + (pid instanceof List<?> l && !l.isEmpty() ? Unpickler.brief(l.get(0)) : Unpickler.typeName(pid))
                        + " (only ('storage', type, key, location, numel) is understood)");
            }
            if (!Unpickler.isStorageClass(t.get(1))) {
                throw CheckpointFormatException.of(file, "persistent id names " + Unpickler.typeName(t.get(1)) + ", not a storage type");
            }
            String cls = ((Unpickler.Global) t.get(1)).name();
            DType d = DType.fromStorageClass(cls);
            if (d == null) throw CheckpointFormatException.of(file, "storage type torch." + cls + " is not supported");
            if (!(t.get(2) instanceof String key) || !key.matches("[A-Za-z0-9_.\\-]{1,200}") || key.contains("..")) {
                throw CheckpointFormatException.of(file, "invalid storage key " + Unpickler.brief(t.get(2)));
            }
            if (!(t.get(3) instanceof String location)) throw CheckpointFormatException.of(file, "storage location is not a string");
            if (!(t.get(4) instanceof Long numel) || numel < 0) {
                throw CheckpointFormatException.of(file, "storage '" + key + "' has an invalid element count " + Unpickler.brief(t.get(4)));
            }
            Unpickler.StorageRef prev = refs.get(key);
            if (prev != null) {
                if (prev.dtype() != d || prev.numel() != numel) {
                    throw CheckpointFormatException.of(file, "storage '" + key + "' is referenced with different types or sizes");
                }
                return prev;
            }
            ZipEntry e = zip.entry(prefix + "data/" + key);
            if (e == null) throw CheckpointFormatException.of(file, "storage '" + key + "' has no entry " + prefix + "data/" + key);
            long need;
            try {
                need = Math.multiplyExact(numel, (long) d.size);
            } catch (ArithmeticException ex) {
                throw CheckpointFormatException.of(file, "storage '" + key + "' declares an absurd element count " + numel);
            }
            if (e.getSize() < need) {
                throw CheckpointFormatException.of(file, "storage '" + key + "' declares " + numel + " elements of " + d.torchName
                        + " (" + need + " bytes) but its entry holds only " + e.getSize() + " bytes");
            }
            Unpickler.StorageRef r = new Unpickler.StorageRef(key, d, numel, location);
            refs.put(key, r);
            return r;
        }

        private Object materialize(Object o, int depth) throws IOException {
            if (o == null || o instanceof String || o instanceof Long || o instanceof Double || o instanceof Boolean
                    || o instanceof byte[]) {
                return o;
            }
            if (depth > MAX_DEPTH) throw CheckpointFormatException.of(file, "object tree nested deeper than " + MAX_DEPTH);
            Object prev = done.get(o);
            if (prev != null) return prev;
            long nodes = 1;
            if (onPath.containsKey(o)) throw CheckpointFormatException.of(file, "object tree contains a reference cycle");
            Object out;
            if (o instanceof Unpickler.TensorRef t) {
                out = tensor(t);
            } else if (o instanceof Unpickler.StorageRef s) {
                out = storage(s);
            } else if (o instanceof Unpickler.Global g) {
                out = g.qualified();
            } else if (o instanceof Unpickler.NumpyDtype d) {
                out = d.toString();
            } else if (o instanceof Map<?, ?> m) {
                onPath.put(o, Boolean.TRUE);
                LinkedHashMap<Object, Object> r = new LinkedHashMap<>();
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    r.put(materialize(e.getKey(), depth + 1), materialize(e.getValue(), depth + 1));
                    nodes = expand(nodes, e.getKey());
                    nodes = expand(nodes, e.getValue());
                }
                onPath.remove(o);
                out = r;
            } else if (o instanceof List<?> l) {
                onPath.put(o, Boolean.TRUE);
                ArrayList<Object> r = new ArrayList<>(l.size());
                for (Object x : l) {
                    r.add(materialize(x, depth + 1));
                    nodes = expand(nodes, x);
                }
                onPath.remove(o);
                out = r;
            } else {
                throw CheckpointFormatException.of(file, "unexpected object " + o.getClass().getSimpleName() + " in the pickle");
            }
            done.put(o, out);
            expanded.put(o, nodes);
            return out;
        }

        /**
         * Adds the expanded node count of a child: a list that holds the same memoised list twice counts it twice, so
         * a DAG that a few hundred bytes describe but that would take 2^40 steps to walk (or print) is refused here.
         */
        private long expand(long nodes, Object child) throws CheckpointFormatException {
            Long c = expanded.get(child);
            long n = nodes + (c == null ? 1 : c);
            if (n > maxExpanded) {
                throw CheckpointFormatException.of(file, "object tree expands to more than " + maxExpanded
                        + " nodes through shared references (a memoised object reused to amplify a small file?)");
            }
            return n;
        }

        private Tensor storage(Unpickler.StorageRef s) throws IOException {
            Tensor t = storages.get(s.key());
            if (t != null) return t;
            String what = "storage '" + s.key() + "'";
            budget(what, (long) s.numel() * s.dtype().size);
            t = NativeIO.allocate(file, what, s.dtype(), new long[] {s.numel()});
            ZipEntry e = zip.entry(prefix + "data/" + s.key());
            try (InputStream in = zip.open(e)) {
                NativeIO.readFully(in, t, file, what);
            } catch (CheckpointFormatException ex) {
                throw ex;
            } catch (IOException ex) {
                throw CheckpointFormatException.of(file, "cannot read " + what + ": " + ZipArchive.describe(ex), ex);
            }
            if (s.dtype() == DType.BOOL) NativeIO.checkBool(t, file, what);
            storages.put(s.key(), t);
            return t;
        }

        private Tensor tensor(Unpickler.TensorRef r) throws IOException {
            Tensor st = storage(r.storage());
            DType d = r.storage().dtype();
            String what = "tensor of storage '" + r.storage().key() + "'";
            long numel = NativeIO.numel(file, what, r.size());
            if (numel == numelOf(st) && r.offset() == 0 && contiguous(r.size(), r.stride())) {
                return st.view(r.size());
            }
            long bytes = NativeIO.nbytes(file, what, r.size(), d);
            budget(what, bytes);
            copied = bytes > Long.MAX_VALUE - copied ? Long.MAX_VALUE : copied + bytes;
            if (copied > fileSize + VIEW_SLACK) {
                throw CheckpointFormatException.of(file, what + " would occupy " + MemoryBudget.human(bytes) + " once materialised ("
                        + "a view of " + MemoryBudget.human(numelOf(st) * d.size) + " of storage); views copied out of this file may take "
                        + "at most its own size plus " + MemoryBudget.human(VIEW_SLACK) + " (" + MemoryBudget.human(fileSize + VIEW_SLACK) + ")");
            }
            Tensor out = NativeIO.allocate(file, what, d, r.size());
            if (numel > 0) out.copy_(st.as_strided(r.size(), r.stride(), new LongOptional(r.offset())));
            return out;
        }

        private static long numelOf(Tensor t) {
            return t.numel();
        }

        private void budget(String what, long bytes) throws CheckpointFormatException {
            try {
                allocated = Math.addExact(allocated, bytes);
            } catch (ArithmeticException e) {
                allocated = Long.MAX_VALUE;
            }
            NativeIO.checkBudget(file, what + " (with everything loaded before it)", allocated);
        }

        static boolean contiguous(long[] size, long[] stride) {
            long expected = 1;
            for (int k = size.length - 1; k >= 0; k--) {
                if (size[k] != 1 && stride[k] != expected) return false;
                expected *= size[k];
            }
            return true;
        }

        @Override
        public void close() throws IOException {
            if (zip != null) zip.close();
        }
    }
}
