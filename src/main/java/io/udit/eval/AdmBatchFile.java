package io.udit.eval;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.io.Npy;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * An ADM evaluator batch file ({@code np.savez} of {@code arr_0}: uint8 N x H x W x 3 images in [0, 255], optionally
 * with precomputed FID statistics {@code mu}, {@code sigma} (pool3) and {@code mu_s}, {@code sigma_s} (spatial), as in
 * OpenAI's reference batches). Images are streamed batch by batch, so a 50,000-image file is never held in memory.
 * Every problem (not a zip, missing arrays, wrong dtype or shape, truncation) is an {@link EvalException} naming the
 * file and what was expected.
 */
public final class AdmBatchFile implements AutoCloseable {
    private final Path file;
    private final ZipFile zip;
    private final ZipEntry images;
    private final long[] imageShape; // N, H, W, C or null
    private final long imageDataOffset;
    private InputStream stream;
    private long next;

    private AdmBatchFile(Path file, ZipFile zip, ZipEntry images, long[] shape, long dataOffset) {
        this.file = file;
        this.zip = zip;
        this.images = images;
        this.imageShape = shape;
        this.imageDataOffset = dataOffset;
    }

    public static AdmBatchFile open(Path file) throws IOException {
        Engine.init();
        if (!Files.exists(file)) throw new NoSuchFileException(file.toString(), null, "no such file");
        if (!Files.isRegularFile(file)) throw new EvalException(file + " is not a regular file");
        ZipFile zip;
        try {
            zip = new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw new EvalException(file + " is not an .npz archive (np.savez output): " + e.getMessage());
        }
        try {
            ZipEntry arr = zip.getEntry("arr_0.npy");
            long[] shape = null;
            long offset = 0;
            if (arr != null) {
                try (InputStream in = zip.getInputStream(arr)) {
                    Header h = Header.read(in, file + "!arr_0.npy");
                    shape = h.shape;
                    offset = h.dataOffset;
                    checkImages(file, h);
                    long want;
                    try {
                        want = Math.addExact(offset, Math.multiplyExact(Math.multiplyExact(shape[0], shape[1]), Math.multiplyExact(shape[2], shape[3])));
                    } catch (ArithmeticException overflow) {
                        throw new EvalException(file + ": arr_0 declares an impossible shape " + Arrays.toString(shape));
                    }
                    if (arr.getSize() >= 0 && arr.getSize() != want) {
                        throw new EvalException(file + ": arr_0 is truncated or padded: header declares "
                                + Arrays.toString(shape) + " (" + (want - offset) + " bytes) but the entry holds " + (arr.getSize() - offset));
                    }
                }
            }
            AdmBatchFile f = new AdmBatchFile(file, zip, arr, shape, offset);
            if (arr == null && !f.hasStatistics()) {
                throw new EvalException(file + " has neither arr_0 (uint8 N x H x W x 3 images) nor precomputed mu, sigma, mu_s, sigma_s; "
                        + "its arrays are " + f.arrayNames());
            }
            return f;
        } catch (RuntimeException | IOException e) {
            zip.close();
            throw e;
        }
    }

    private static void checkImages(Path file, Header h) {
        String expect = " (the ADM batch format: arr_0 = uint8 images N x H x W x 3, e.g. from np.savez(path, arr_0=samples))";
        if (!h.descr.equals("|u1") && !h.descr.equals("<u1") && !h.descr.equals("u1")) {
            throw new EvalException(file + ": arr_0 has dtype " + h.descr + ", expected uint8" + expect);
        }
        if (h.fortran) throw new EvalException(file + ": arr_0 is stored in Fortran order; save it in C order" + expect);
        if (h.shape.length != 4 || h.shape[3] != 3) {
            throw new EvalException(file + ": arr_0 has shape " + Arrays.toString(h.shape) + ", expected N x H x W x 3" + expect);
        }
        if (h.shape[0] < 1) throw new EvalException(file + ": arr_0 holds no images");
        if (h.shape[1] < 16 || h.shape[2] < 16 || h.shape[1] > 4096 || h.shape[2] > 4096) {
            throw new EvalException(file + ": arr_0 images are " + h.shape[1] + " x " + h.shape[2] + ", expected 16 to 4096 pixels a side");
        }
    }

    public Path file() {
        return file;
    }

    public boolean hasImages() {
        return images != null;
    }

    /** N x H x W x 3, or null without arr_0. */
    public long[] imageShape() {
        return imageShape == null ? null : imageShape.clone();
    }

    public long count() {
        return imageShape == null ? 0 : imageShape[0];
    }

    /** All four precomputed statistics arrays are present. */
    public boolean hasStatistics() {
        List<String> stats = new ArrayList<>();
        for (String n : new String[] {"mu", "sigma", "mu_s", "sigma_s"}) if (zip.getEntry(n + ".npy") != null) stats.add(n);
        if (!stats.isEmpty() && stats.size() < 4) {
            throw new EvalException(file + " has precomputed statistics " + stats + " but needs all of mu, sigma, mu_s, sigma_s");
        }
        return stats.size() == 4;
    }

    public List<String> arrayNames() {
        List<String> out = new ArrayList<>();
        zip.stream().forEach(e -> out.add(e.getName().endsWith(".npy") ? e.getName().substring(0, e.getName().length() - 4) : e.getName()));
        return out;
    }

    /** Precomputed pool3 ({@code mu}, {@code sigma}) or spatial ({@code mu_s}, {@code sigma_s}) statistics. */
    public Frechet.Stats statistics(boolean spatial) throws IOException {
        String m = spatial ? "mu_s" : "mu";
        String s = spatial ? "sigma_s" : "sigma";
        Tensor mu = array(m);
        Tensor sigma = array(s);
        return Frechet.Stats.of(mu, sigma, file + " " + m + "/" + s);
    }

    private Tensor array(String name) throws IOException {
        ZipEntry e = zip.getEntry(name + ".npy");
        if (e == null) throw new EvalException(file + " has no array " + name);
        try (InputStream in = zip.getInputStream(e)) {
            return Npy.read(in, file + "!" + name + ".npy");
        } catch (ZipException | EOFException ex) {
            throw new EvalException(file + ": array " + name + " is corrupt: " + ex.getMessage());
        }
    }

    /**
     * The next {@code count} images (uint8 count x H x W x 3), in order from the first; fewer at the end, null when all
     * were read.
     */
    public Tensor nextImages(int count) throws IOException {
        if (images == null) throw new EvalException(file + " has no arr_0 images");
        if (next >= imageShape[0]) return null;
        if (stream == null) {
            stream = zip.getInputStream(images);
            long skip = imageDataOffset;
            while (skip > 0) {
                long k = stream.skip(skip);
                if (k <= 0) throw new EvalException(file + ": arr_0 is truncated");
                skip -= k;
            }
        }
        long n = Math.min(count, imageShape[0] - next);
        long per = imageShape[1] * imageShape[2] * imageShape[3];
        Tensor t = Tensors.empty(ScalarType.Byte, n, imageShape[1], imageShape[2], imageShape[3]);
        long bytes = n * per;
        BytePointer p = new BytePointer(t.data_ptr()).capacity(bytes);
        ByteBuffer dst = p.asByteBuffer();
        byte[] buf = new byte[(int) Math.min(bytes, 1 << 20)];
        long done = 0;
        try {
            while (done < bytes) {
                int want = (int) Math.min(buf.length, bytes - done);
                int r = stream.read(buf, 0, want);
                if (r < 0) throw new EvalException(file + ": arr_0 is truncated after " + (next * per + done) + " bytes of image data");
                dst.put(buf, 0, r);
                done += r;
            }
        } catch (ZipException | EOFException e) {
            throw new EvalException(file + ": arr_0 is corrupt: " + e.getMessage());
        } finally {
            Reference.reachabilityFence(t);
        }
        next += n;
        return t;
    }

    @Override
    public void close() throws IOException {
        if (stream != null) stream.close();
        zip.close();
    }

    /** The parts of an .npy header this reader needs. */
    record Header(String descr, boolean fortran, long[] shape, long dataOffset) {
        private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
        private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
        private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

        static Header read(InputStream in, String source) throws IOException {
            byte[] pre = in.readNBytes(10);
            if (pre.length < 10 || (pre[0] & 0xff) != 0x93 || !new String(pre, 1, 5, StandardCharsets.ISO_8859_1).equals("NUMPY")) {
                throw new EvalException(source + " is not an .npy array");
            }
            int major = pre[6] & 0xff;
            long len;
            long offset;
            if (major == 1) {
                len = (pre[8] & 0xff) | (pre[9] & 0xff) << 8;
                offset = 10 + len;
            } else if (major == 2 || major == 3) {
                byte[] more = in.readNBytes(2);
                if (more.length < 2) throw new EvalException(source + ": truncated npy header");
                len = ByteBuffer.wrap(new byte[] {pre[8], pre[9], more[0], more[1]}).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xffffffffL;
                offset = 12 + len;
            } else {
                throw new EvalException(source + ": unsupported npy version " + major);
            }
            if (len > 1 << 16) throw new EvalException(source + ": npy header too long (" + len + " bytes)");
            byte[] hb = in.readNBytes((int) len);
            if (hb.length < len) throw new EvalException(source + ": truncated npy header");
            String h = new String(hb, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
            Matcher d = DESCR.matcher(h);
            Matcher f = FORTRAN.matcher(h);
            Matcher s = SHAPE.matcher(h);
            if (!d.find() || !f.find() || !s.find()) throw new EvalException(source + ": malformed npy header " + h.trim());
            List<Long> dims = new ArrayList<>();
            for (String part : s.group(1).split(",")) {
                String t = part.trim();
                if (t.endsWith("L")) t = t.substring(0, t.length() - 1);
                if (t.isEmpty()) continue;
                try {
                    long v = Long.parseLong(t);
                    if (v < 0) throw new NumberFormatException();
                    dims.add(v);
                } catch (NumberFormatException e) {
                    throw new EvalException(source + ": bad npy shape (" + s.group(1) + ")");
                }
            }
            long[] shape = new long[dims.size()];
            for (int i = 0; i < shape.length; i++) shape[i] = dims.get(i);
            return new Header(d.group(1), f.group(1).equals("True"), shape, offset);
        }
    }
}
