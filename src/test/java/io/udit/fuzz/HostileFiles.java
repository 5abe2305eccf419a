package io.udit.fuzz;

import io.udit.testing.Pk;

import java.nio.charset.StandardCharsets;

/**
 * The small hostile files of issue 17, built byte by byte: {@link Hostile} lists them for the parser tests and the
 * seed corpora, {@link HostileCliTest} runs them through the CLI and {@link HostileMemoryTest} measures what they cost.
 */
final class HostileFiles {
    private HostileFiles() {}

    /** A minimal torch.save zip: data.pkl plus one 4-byte storage "0". */
    static byte[] torchZip(byte[] pkl) {
        return Hostile.zip(false, "a/data.pkl", pkl, "a/byteorder", "little".getBytes(StandardCharsets.US_ASCII), "a/data/0", new byte[4]);
    }

    /**
     * {@code {'args': {'model': {'hidden_size': L40}}, 'ema': {}}} where L0 = [] and L(i) = [L(i-1), L(i-1)], built
     * with memo GET + APPEND: 2^40 leaves reachable from a few hundred bytes.
     */
    static byte[] dagArgsCheckpoint() {
        Pk p = new Pk().op('}').str("args").op('}').str("model").op('}').str("hidden_size");
        p.op(']').op('q', 0).op('0');
        for (int i = 1; i <= 40; i++) p.op(']').op('q', i).op('h', i - 1).op('a').op('h', i - 1).op('a').op('0');
        p.op('h', 40).op('s').op('s').op('s').str("ema").op('}').op('s');
        return torchZip(p.stop());
    }

    /** {@code n} tensors, each a stride-0 view of one float blown up to 2^29 elements (2 GiB once materialised). */
    static byte[] strideZero(int n) {
        Pk p = new Pk().op('}');
        for (int i = 0; i < n; i++) {
            p.str("t" + i).tensor("FloatStorage", "0", 1, 0, new long[] {1L << 29}, new long[] {0}).op('s');
        }
        return torchZip(p.stop());
    }

    /** A training checkpoint with no weights whose args ask for the given downsampler. */
    static byte[] argsCheckpoint(String downsampler) {
        Pk p = new Pk().op('}').str("args").op('}').str("model").op('}').str("downsampler").str(downsampler).op('s')
                .op('s').op('s').str("ema").op('}').op('s');
        return torchZip(p.stop());
    }

    /** An npz whose one entry has the given name (holding a valid 1-float array). */
    static byte[] npzWithEntry(String name) {
        return Hostile.zip(false, name, Hostile.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new byte[4]));
    }

    /** A safetensors file with one 1-byte U8 tensor per name; names are JSON string bodies (escapes allowed). */
    static byte[] safetensorsNamed(String... jsonNames) {
        StringBuilder h = new StringBuilder("{");
        for (int i = 0; i < jsonNames.length; i++) {
            if (i > 0) h.append(',');
            h.append('"').append(jsonNames[i]).append("\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[").append(i).append(',')
                    .append(i + 1).append("]}");
        }
        return Hostile.safetensors(h.append('}').toString(), new byte[jsonNames.length]);
    }
}
