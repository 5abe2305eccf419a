package io.udit.train;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Tensor;

import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * CRC-32C over a checkpoint's content (names, shapes, dtypes and bytes of every tensor, the optimizer state and the
 * step), read straight from native memory. Verified on load, so a torn or bit-flipped file is never trusted.
 */
final class Checksums {
    private Checksums() {}

    /** The checksum; the optimizer state is a uint8 tensor (its raw bytes count). */
    static String of(Map<String, Tensor> model, Map<String, Tensor> ema, Tensor optimizer, long step) {
        CRC32C crc = new CRC32C();
        update(crc, model);
        update(crc, ema);
        updateRaw(crc, optimizer.contiguous());
        crc.update(Long.toString(step).getBytes(StandardCharsets.UTF_8));
        return String.format("crc32c:%08x", crc.getValue());
    }

    private static void updateRaw(CRC32C crc, Tensor t) {
        long n = t.nbytes();
        BytePointer p = new BytePointer(t.data_ptr());
        for (long off = 0; off < n; off += 1 << 30) {
            long len = Math.min(1 << 30, n - off);
            crc.update(new BytePointer(p).position(off).limit(off + len).asByteBuffer());
        }
        Reference.reachabilityFence(t);
    }

    private static void update(CRC32C crc, Map<String, Tensor> sd) {
        for (var e : sd.entrySet()) {
            Tensor t = e.getValue().contiguous();
            crc.update((e.getKey() + java.util.Arrays.toString(io.udit.engine.Tensors.shape(t)) + t.scalar_type().intern())
                    .getBytes(StandardCharsets.UTF_8));
            updateRaw(crc, t);
        }
    }
}
