package io.udit.io;

import io.udit.engine.Engine;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;

/**
 * numpy {@code .npz} archives ({@code np.savez} stored, {@code np.savez_compressed} deflated): a zip of
 * {@code <name>.npy} entries. Inflation is bounded by the size each npy header declares, so zip bombs fail cleanly.
 */
public final class Npz {
    private Npz() {}

    /** All arrays, keyed by entry name without {@code .npy}, in archive order. */
    public static LinkedHashMap<String, Tensor> read(Path file) throws IOException {
        Engine.init();
        Sniff.requireRegularFile(file);
        byte[] head = Sniff.head(file, 512);
        if (!Sniff.isZip(head)) {
            throw CheckpointFormatException.of(file, "not an npz archive: the file is " + Sniff.describe(head, Files.size(file)));
        }
        try (ZipArchive zip = ZipArchive.open(file)) {
            List<ZipEntry> arrays = new ArrayList<>();
            for (Map.Entry<String, ZipEntry> e : zip.entries().entrySet()) {
                if (e.getValue().isDirectory()) continue;
                if (!e.getKey().endsWith(".npy")) {
                    throw CheckpointFormatException.of(file, "npz entry '" + NativeIO.printable(e.getKey()) + "' is not an .npy array"
                            + (e.getKey().endsWith("data.pkl") ? " (this looks like a torch.save checkpoint)" : ""));
                }
                if (e.getKey().equals(".npy") || e.getKey().endsWith("/.npy")) {
                    throw CheckpointFormatException.of(file, "npz entry '" + NativeIO.printable(e.getKey()) + "' has an empty array name");
                }
                arrays.add(e.getValue());
            }
            long total = 0;
            for (ZipEntry e : arrays) total = saturatingAdd(total, e.getSize());
            NativeIO.checkBudget(file, "the arrays", total);
            LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
            for (ZipEntry e : arrays) {
                String name = e.getName().substring(0, e.getName().length() - 4);
                TensorNames.checkRead(file, List.of(name));
                out.put(name, readEntry(zip, e, file + "!" + NativeIO.printable(e.getName())));
            }
            return out;
        }
    }

    private static long saturatingAdd(long a, long b) {
        long r = a + b;
        return r < 0 ? Long.MAX_VALUE : r;
    }

    private static Tensor readEntry(ZipArchive zip, ZipEntry e, String source) throws IOException {
        try (InputStream in = zip.open(e)) {
            Npy.Header h = Npy.parseHeader(in, source);
            long nbytes = h.nbytes(source);
            long declared = e.getSize();
            if (declared != h.dataOffset() + nbytes) {
                throw CheckpointFormatException.of(source, "npy header declares " + nbytes + " bytes of data but the zip entry is "
                        + declared + " bytes (header " + h.dataOffset() + ")");
            }
            Tensor t = Npy.readData(in, h, source);
            if (in.read() >= 0) {
                throw CheckpointFormatException.of(source, "zip entry inflates to more than its npy header and zip size declare");
            }
            return t;
        } catch (CheckpointFormatException ex) {
            throw ex;
        } catch (ZipException | java.io.EOFException ex) {
            throw CheckpointFormatException.of(source, "corrupt zip entry: " + ZipArchive.describe(ex), ex);
        }
    }

    /** Atomically writes the arrays as an uncompressed npz (like {@code np.savez}); keys become {@code <key>.npy}. */
    public static void write(Path file, Map<String, Tensor> arrays) throws IOException {
        write(file, arrays, false);
    }

    static void write(Path file, Map<String, Tensor> arrays, boolean forceZip64) throws IOException {
        Engine.init();
        TensorNames.checkWrite(file, arrays.keySet());
        List<String> names = new ArrayList<>();
        List<Tensor> data = new ArrayList<>();
        List<byte[]> headers = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : arrays.entrySet()) {
            String k = e.getKey();
            if (k == null || k.isEmpty() || k.startsWith("/") || k.contains("\\") || k.contains("\0")
                    || ("/" + k + "/").contains("/../")) {
                throw new IllegalArgumentException("npz key '" + k + "' is not a safe entry name");
            }
            Tensor c = NativeIO.prepare(e.getValue(), k);
            names.add(k + ".npy");
            data.add(c);
            headers.add(Npy.header(c));
        }
        AtomicFiles.write(file, ch -> {
            ZipWriter z = new ZipWriter(ch, forceZip64);
            for (int k = 0; k < names.size(); k++) {
                byte[] h = headers.get(k);
                Tensor c = data.get(k);
                z.begin(names.get(k), h.length + c.nbytes(), false);
                z.write(java.nio.ByteBuffer.wrap(h));
                z.write(c);
                z.end();
            }
            z.finish();
        });
    }
}
