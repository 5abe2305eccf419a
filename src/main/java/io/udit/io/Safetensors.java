package io.udit.io;

import io.udit.engine.Engine;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header
 * ({@code {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}}) and the
 * tensor bytes. Reading memory-maps the data in windows (files and tensors over 2 GB work) and copies straight into
 * tensor memory; the header is validated completely before anything is allocated.
 */
public final class Safetensors {
    private Safetensors() {}

    /** Header size limit (the reference implementation's). */
    public static final long MAX_HEADER_BYTES = 100L << 20;
    static final String METADATA = "__metadata__";

    record Info(String name, DType dtype, long[] shape, long begin, long end) {}

    record Header(LinkedHashMap<String, String> metadata, List<Info> tensors, long dataStart) {}

    /** All tensors, in header order. */
    public static LinkedHashMap<String, Tensor> read(Path file) throws IOException {
        Engine.init();
        Sniff.requireRegularFile(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            Header h = header(ch, size, file);
            for (Info i : h.tensors) {
                String problem = TensorNames.problem(i.name);
                if (problem != null) throw CheckpointFormatException.of(file, problem);
            }
            long total = 0;
            for (Info i : h.tensors) total += i.end - i.begin;
            NativeIO.checkBudget(file, "the tensors", total);
            LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
            NativeIO.MappedWindow win = new NativeIO.MappedWindow(ch, size);
            for (Info i : h.tensors) {
                String what = "tensor '" + NativeIO.printable(i.name) + "'";
                Tensor t = NativeIO.allocate(file, what, i.dtype, i.shape);
                if (t.nbytes() > 0) win.copy(h.dataStart + i.begin, t, file, what);
                if (i.dtype == DType.BOOL) NativeIO.checkBool(t, file, what);
                out.put(i.name, t);
            }
            return out;
        }
    }

    /** The {@code __metadata__} string map (empty when absent); the whole header is validated. */
    public static Map<String, String> metadata(Path file) throws IOException {
        Sniff.requireRegularFile(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return Collections.unmodifiableMap(header(ch, ch.size(), file).metadata);
        }
    }

    /** Names, dtypes and shapes without reading data: name -> "F32[2, 3]". */
    public static LinkedHashMap<String, String> describe(Path file) throws IOException {
        Sniff.requireRegularFile(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            LinkedHashMap<String, String> out = new LinkedHashMap<>();
            for (Info i : header(ch, ch.size(), file).tensors) out.put(i.name, i.dtype.safetensors + Arrays.toString(i.shape));
            return out;
        }
    }

    static Header header(FileChannel ch, long size, Path file) throws IOException {
        if (size < 8) throw CheckpointFormatException.of(file, "not a safetensors file: only " + size + " bytes (truncated?)");
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0, file);
        long n = lenBuf.getLong(0);
        if (n < 0 || n > size - 8) {
            throw CheckpointFormatException.of(file, "safetensors header claims " + Long.toUnsignedString(n)
                    + " bytes but the file has only " + (size - 8) + " after the length field (truncated or not a safetensors file)");
        }
        if (n > MAX_HEADER_BYTES) {
            throw CheckpointFormatException.of(file, "safetensors header of " + n + " bytes exceeds the limit of " + MAX_HEADER_BYTES);
        }
        if (n < 2) throw CheckpointFormatException.of(file, "safetensors header of " + n + " bytes is too short");
        ByteBuffer hb = ByteBuffer.allocate((int) n);
        readFully(ch, hb, 8, file);
        hb.flip();
        if (hb.get(0) != '{') {
            throw CheckpointFormatException.of(file, "not a safetensors file: header does not start with '{'");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(hb).toString();
        } catch (CharacterCodingException e) {
            throw CheckpointFormatException.of(file, "safetensors header is not valid UTF-8");
        }
        Object parsed;
        try {
            parsed = Json.parse(text, 8, (int) MAX_HEADER_BYTES);
        } catch (Json.ParseException e) {
            throw CheckpointFormatException.of(file, "safetensors header is not valid JSON: " + e.getMessage());
        }
        if (!(parsed instanceof Map<?, ?> top)) throw CheckpointFormatException.of(file, "safetensors header is not a JSON object");
        long dataStart = 8 + n;
        long dataLen = size - dataStart;
        LinkedHashMap<String, String> meta = new LinkedHashMap<>();
        List<Info> infos = new ArrayList<>();
        for (Map.Entry<?, ?> e : top.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals(METADATA)) {
                if (!(e.getValue() instanceof Map<?, ?> m)) throw CheckpointFormatException.of(file, "__metadata__ is not an object");
                for (Map.Entry<?, ?> me : m.entrySet()) {
                    if (!(me.getValue() instanceof String v)) {
                        throw CheckpointFormatException.of(file, "__metadata__ value of '" + NativeIO.printable((String) me.getKey())
                                + "' is not a string");
                    }
                    meta.put((String) me.getKey(), v);
                }
                continue;
            }
            infos.add(info(file, name, e.getValue()));
        }
        // the data must be covered exactly: sorted by offset, contiguous, no holes, no overlaps, ending at the file end
        List<Info> sorted = new ArrayList<>(infos);
        sorted.sort(Comparator.comparingLong((Info i) -> i.begin).thenComparingLong(i -> i.end));
        long at = 0;
        for (Info i : sorted) {
            if (i.begin != at) {
                throw CheckpointFormatException.of(file, "tensor '" + NativeIO.printable(i.name) + "' data starts at " + i.begin
                        + (i.begin < at ? " inside the previous tensor's data (overlap)" : " leaving a hole after offset " + at));
            }
            at = i.end;
        }
        if (at != dataLen) {
            throw CheckpointFormatException.of(file, "tensor data ends at offset " + at + " but the data section holds " + dataLen
                    + " bytes" + (at > dataLen ? " (truncated file)" : " (trailing bytes)"));
        }
        return new Header(meta, infos, dataStart);
    }

    private static Info info(Path file, String name, Object v) throws CheckpointFormatException {
        String what = "tensor '" + NativeIO.printable(name) + "'";
        if (name.isEmpty()) throw CheckpointFormatException.of(file, "empty tensor name");
        if (!(v instanceof Map<?, ?> m)) throw CheckpointFormatException.of(file, what + " header entry is not an object");
        for (Object k : m.keySet()) {
            if (!k.equals("dtype") && !k.equals("shape") && !k.equals("data_offsets")) {
                throw CheckpointFormatException.of(file, what + " has an unknown header field '" + NativeIO.printable((String) k) + "'");
            }
        }
        if (!(m.get("dtype") instanceof String ds)) throw CheckpointFormatException.of(file, what + " has no dtype string");
        DType d = DType.fromSafetensors(ds);
        if (d == null) throw CheckpointFormatException.of(file, what + " has unsupported dtype '" + NativeIO.printable(ds) + "'");
        if (!(m.get("shape") instanceof List<?> sl)) throw CheckpointFormatException.of(file, what + " has no shape list");
        if (sl.size() > NativeIO.MAX_DIMS) throw CheckpointFormatException.of(file, what + " has " + sl.size() + " dimensions");
        long[] shape = new long[sl.size()];
        for (int k = 0; k < shape.length; k++) {
            if (!(sl.get(k) instanceof Long x)) throw CheckpointFormatException.of(file, what + " shape holds a non-integer " + sl.get(k));
            shape[k] = x;
        }
        long nbytes = NativeIO.nbytes(file, what, shape, d);
        if (!(m.get("data_offsets") instanceof List<?> ol) || ol.size() != 2 || !(ol.get(0) instanceof Long b)
                || !(ol.get(1) instanceof Long e)) {
            throw CheckpointFormatException.of(file, what + " needs data_offsets [begin, end] as integers");
        }
        if (b < 0 || e < b) throw CheckpointFormatException.of(file, what + " has invalid data_offsets [" + b + ", " + e + "]");
        if (e - b != nbytes) {
            throw CheckpointFormatException.of(file, what + " is " + d.safetensors + Arrays.toString(shape) + " (" + nbytes
                    + " bytes) but its data_offsets [" + b + ", " + e + "] span " + (e - b) + " bytes");
        }
        return new Info(name, d, shape, b, e);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos, Path file) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos + buf.position());
            if (r < 0) throw CheckpointFormatException.of(file, "file is truncated");
        }
    }

    /** Atomically writes the tensors (in map order) and optional string metadata. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Engine.init();
        TensorNames.checkWrite(file, tensors.keySet());
        LinkedHashMap<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            LinkedHashMap<String, Object> m = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                if (e.getKey() == null || e.getValue() == null) throw new IllegalArgumentException("null metadata key or value");
                m.put(e.getKey(), e.getValue());
            }
            header.put(METADATA, m);
        }
        List<Tensor> data = new ArrayList<>();
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            if (name == null || name.isEmpty()) throw new IllegalArgumentException("empty tensor name");
            if (name.equals(METADATA)) throw new IllegalArgumentException("a tensor cannot be named " + METADATA);
            Tensor c = NativeIO.prepare(e.getValue(), name);
            DType d = DType.of(c);
            long n = c.nbytes();
            LinkedHashMap<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", d.safetensors);
            List<Long> shape = new ArrayList<>();
            for (long s : c.sizes().vec().get()) shape.add(s);
            info.put("shape", shape);
            info.put("data_offsets", List.of(offset, offset + n));
            header.put(name, info);
            data.add(c);
            offset += n;
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8; // keep the data 8-byte aligned, as the reference writer does
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();
        AtomicFiles.write(file, ch -> {
            AtomicFiles.writeFully(ch, head);
            for (Tensor t : data) NativeIO.write(ch, t, null);
        });
    }

}
