package io.udit.io;

import io.udit.engine.Engine;
import org.bytedeco.pytorch.Tensor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes {@code torch.save}-compatible zip checkpoints (pickle protocol 2, one storage per tensor, stored entries with
 * 64-byte aligned data, {@code byteorder} = little, {@code version} = 3), atomically. Only globals that torch.load's
 * {@code weights_only=True} unpickler allows are used, so current torch reads the files without unsafe loading.
 *
 * <p>Tree types: Map (String/Long/Integer/Boolean/Double/null keys; a non-empty map of String to Tensor is written as a
 * {@code collections.OrderedDict}, like a state dict), List (a list), Object[] (a tuple), Long/Integer/Short/Byte,
 * Double/Float, String, Boolean, null, byte[], and Tensor (float32/64, float16, bfloat16, int64/32/16, int8, uint8,
 * bool). Other types are an IllegalArgumentException naming the path to the bad value.
 */
public final class TorchCheckpointWriter {
    private TorchCheckpointWriter() {}

    static final int MAX_DEPTH = TorchCheckpoint.MAX_DEPTH;

    /** Atomically writes {@code tree} to {@code file}. */
    public static void write(Path file, Object tree) throws IOException {
        write(file, tree, false);
    }

    /** {@code forceZip64}: zip64 records even for small files (tests of the large-file path). */
    static void write(Path file, Object tree, boolean forceZip64) throws IOException {
        Engine.init();
        Pickler pk = new Pickler();
        byte[] pkl = pk.pickle(tree);
        String prefix = archiveName(file) + "/";
        AtomicFiles.write(file, ch -> {
            ZipWriter z = new ZipWriter(ch, forceZip64);
            z.add(prefix + "data.pkl", pkl, true);
            z.add(prefix + "byteorder", "little".getBytes(StandardCharsets.US_ASCII), true);
            for (int k = 0; k < pk.tensors.size(); k++) {
                Tensor t = pk.tensors.get(k);
                z.begin(prefix + "data/" + k, t.nbytes(), true);
                z.write(t);
                z.end();
            }
            z.add(prefix + "version", "3\n".getBytes(StandardCharsets.US_ASCII), true);
            z.finish();
        });
    }

    /** Torch names the archive folder after the file (older versions) or "archive" (newer); either loads. */
    static String archiveName(Path file) {
        return "archive";
    }

    /** Pickle protocol 2 writer for the supported tree types. */
    static final class Pickler {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final List<Tensor> tensors = new ArrayList<>();
        private final IdentityHashMap<Object, Boolean> onPath = new IdentityHashMap<>();

        byte[] pickle(Object tree) {
            op(0x80);
            op(2);
            save(tree, "<root>", 0);
            op('.');
            return out.toByteArray();
        }

        private void op(int b) {
            out.write(b);
        }

        private void save(Object v, String path, int depth) {
            if (depth > MAX_DEPTH) throw new IllegalArgumentException("tree nested deeper than " + MAX_DEPTH + " at " + path);
            if (v == null) {
                op('N');
            } else if (v instanceof Boolean b) {
                op(b ? 0x88 : 0x89);
            } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
                saveLong(((Number) v).longValue());
            } else if (v instanceof Double || v instanceof Float) {
                op('G');
                byte[] b = ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN).putDouble(((Number) v).doubleValue()).array();
                out.writeBytes(b);
            } else if (v instanceof String s) {
                saveString(s);
            } else if (v instanceof byte[] bytes) {
                saveBytes(bytes);
            } else if (v instanceof Tensor t) {
                saveTensor(t, path);
            } else if (v instanceof Map<?, ?> m) {
                enter(v, path);
                boolean stateDict = !m.isEmpty() && TorchCheckpoint.isStateDict(m);
                if (stateDict) {
                    global("collections", "OrderedDict");
                    op(')');
                    op('R');
                } else {
                    op('}');
                }
                if (!m.isEmpty()) {
                    int n = 0;
                    op('(');
                    for (Map.Entry<?, ?> e : m.entrySet()) {
                        Object k = e.getKey();
                        checkKey(k, path);
                        save(k, path, depth + 1);
                        save(e.getValue(), path + "." + k, depth + 1);
                        if (++n % 1000 == 0) { // batch like pickle does
                            op('u');
                            op('(');
                        }
                    }
                    op('u');
                }
                onPath.remove(v);
            } else if (v instanceof List<?> l) {
                enter(v, path);
                op(']');
                if (!l.isEmpty()) {
                    op('(');
                    int n = 0;
                    for (Object x : l) {
                        save(x, path + "[" + n + "]", depth + 1);
                        if (++n % 1000 == 0) {
                            op('e');
                            op('(');
                        }
                    }
                    op('e');
                }
                onPath.remove(v);
            } else if (v instanceof Object[] a) {
                enter(v, path);
                saveTuple(a, path, depth);
                onPath.remove(v);
            } else {
                throw new IllegalArgumentException("cannot save a " + v.getClass().getName() + " at " + path);
            }
        }

        private void enter(Object v, String path) {
            if (onPath.put(v, Boolean.TRUE) != null) throw new IllegalArgumentException("reference cycle at " + path);
        }

        private static void checkKey(Object k, String path) {
            if (k == null || k instanceof String || k instanceof Long || k instanceof Integer || k instanceof Short
                    || k instanceof Byte || k instanceof Boolean || k instanceof Double || k instanceof Float) {
                return;
            }
            throw new IllegalArgumentException("unsupported dict key type " + k.getClass().getName() + " at " + path);
        }

        private void saveTuple(Object[] a, String path, int depth) {
            if (a.length == 0) {
                op(')');
                return;
            }
            if (a.length > 3) op('(');
            for (int k = 0; k < a.length; k++) save(a[k], path + "[" + k + "]", depth + 1);
            op(switch (a.length) {
                case 1 -> 0x85;
                case 2 -> 0x86;
                case 3 -> 0x87;
                default -> 't';
            });
        }

        private void saveLong(long x) {
            if (x >= 0 && x <= 0xFF) {
                op('K');
                op((int) x);
            } else if (x >= 0 && x <= 0xFFFF) {
                op('M');
                op((int) (x & 0xFF));
                op((int) (x >>> 8));
            } else if (x >= Integer.MIN_VALUE && x <= Integer.MAX_VALUE) {
                op('J');
                for (int k = 0; k < 4; k++) op((int) (x >>> (8 * k)) & 0xFF);
            } else {
                byte[] be = java.math.BigInteger.valueOf(x).toByteArray(); // minimal two's complement
                op(0x8a);
                op(be.length);
                for (int k = be.length - 1; k >= 0; k--) op(be[k] & 0xFF);
            }
        }

        private void saveString(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            op('X');
            for (int k = 0; k < 4; k++) op((b.length >>> (8 * k)) & 0xFF);
            out.writeBytes(b);
        }

        /** Protocol 2 bytes, as Python 3 writes them: _codecs.encode(latin1 string, 'latin1'). */
        private void saveBytes(byte[] bytes) {
            global("_codecs", "encode");
            saveString(new String(bytes, StandardCharsets.ISO_8859_1));
            saveString("latin1");
            op(0x86);
            op('R');
        }

        private void global(String module, String name) {
            op('c');
            out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        }

        private void saveTensor(Tensor t, String path) {
            Tensor c = NativeIO.prepare(t, path);
            DType d = DType.of(c);
            int key = tensors.size();
            tensors.add(c);
            long[] size = c.sizes().vec().get();
            long[] stride = new long[size.length];
            long s = 1;
            for (int k = size.length - 1; k >= 0; k--) {
                stride[k] = s;
                s *= size[k];
            }
            global("torch._utils", "_rebuild_tensor_v2");
            op('(');
            op('(');
            saveString("storage");
            global("torch", d.storage + "Storage");
            saveString(Integer.toString(key));
            saveString("cpu");
            saveLong(c.numel());
            op('t');
            op('Q');
            saveLong(0);
            saveLongTuple(size);
            saveLongTuple(stride);
            op(0x89); // requires_grad False
            global("collections", "OrderedDict");
            op(')');
            op('R');
            op('t');
            op('R');
        }

        private void saveLongTuple(long[] a) {
            if (a.length == 0) {
                op(')');
                return;
            }
            if (a.length > 3) op('(');
            for (long x : a) saveLong(x);
            op(switch (a.length) {
                case 1 -> 0x85;
                case 2 -> 0x86;
                case 3 -> 0x87;
                default -> 't';
            });
        }
    }
}
