package io.udit.vae;

import io.udit.engine.NativeScopes;
import io.udit.engine.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * The VAE as the latent pipeline uses it: images in [-1, 1] to scaled latents ({@code scaling_factor * (z -
 * shift_factor)}, z a posterior sample drawn with per-image seeded noise), and scaled latents back to images.
 * Methods are thread-safe; each runs under InferenceMode in its own native scopes and returns ordinary tensors.
 *
 * <p><b>Decoding memory.</b> {@link #decode} works in batches of {@link DecodeOptions#batch()} latents (by default as
 * many as fit {@link DecodeOptions#memoryBudget()}, estimated as 5 activations of the decoder's widest layer per
 * image). A latent whose own decode would exceed the budget, or any latent when a tile size is given, is decoded in
 * overlapping tiles: tiles of T x T latents start every T - O latents (the last one flush with the edge), each is
 * decoded on its own, and the output pixels are a weighted mean of the tiles covering them. A tile's weight is 1
 * except within O * f pixels of a side that has a neighbouring tile, where it ramps linearly from ~0 at the edge to
 * 1 (f = the VAE's upsampling factor). The ramps hide seams; tiles still normalise their activations separately
 * (group norm), so tiled output differs slightly from a whole-image decode, as with diffusers' tiled decoding.
 */
public final class Vae {
    /** Default activation memory for one decode batch. */
    public static final long DEFAULT_MEMORY_BUDGET = 2L << 30;

    private final AutoencoderKL model;
    private final Path folder, weights;
    private final VaeWeights.Naming naming;

    Vae(AutoencoderKL model, Path folder, Path weights, VaeWeights.Naming naming) {
        this.model = model;
        this.folder = folder;
        this.weights = weights;
        this.naming = naming;
    }

    /** Loads a diffusers VAE folder (see {@link VaeFolder}). */
    public static Vae load(Path dir) {
        return VaeFolder.load(dir);
    }

    /** A VAE with random weights (tests, benchmarks). */
    public static Vae random(AutoencoderKLConfig config, long seed) {
        AutoencoderKL m = NativeScopes.outsideScopes(() -> new AutoencoderKL(config).randomize(seed));
        return new Vae(m, null, null, VaeWeights.Naming.CURRENT);
    }

    /** Wraps a model (whose weights the caller set). */
    public static Vae of(AutoencoderKL model) {
        return new Vae(model, null, null, VaeWeights.Naming.CURRENT);
    }

    public AutoencoderKL model() {
        return model;
    }

    public AutoencoderKLConfig config() {
        return model.config();
    }

    public int downsampleFactor() {
        return config().downsampleFactor();
    }

    /** Writes this VAE as a diffusers folder. */
    public Path save(Path dir, boolean safetensors, VaeWeights.Naming naming) throws IOException {
        return VaeWeights.save(model, dir, safetensors, naming);
    }

    /** One line for logs. */
    public String describe() {
        AutoencoderKLConfig c = config();
        return "AutoencoderKL " + c.blockOutChannels() + " x" + c.layersPerBlock() + ", " + c.latentChannels()
                + " latent channels, /" + c.downsampleFactor() + ", scaling " + c.scalingFactor()
                + (weights != null ? ", from " + weights + (naming == VaeWeights.Naming.LEGACY ? " (legacy attention names)" : "")
                : ", random weights");
    }

    /** What a manifest records about the VAE. */
    public LinkedHashMap<String, Object> describeMap() {
        LinkedHashMap<String, Object> m = new LinkedHashMap<>();
        m.put("folder", folder == null ? null : folder.toAbsolutePath().toString());
        m.put("weights", weights == null ? null : weights.getFileName().toString());
        if (weights != null) {
            try {
                m.put("weights_bytes", java.nio.file.Files.size(weights));
            } catch (IOException ignored) {
                // informational only
            }
        }
        m.put("config", config().toMap());
        return m;
    }

    // ------------------------------------------------------------------------------------------------ encoding

    /** Posterior moments (N, 2 * latent, h, w) of images (N, 3, H, W) in [-1, 1]. */
    public Tensor moments(Tensor images) {
        Tensor out = Tensors.empty(ScalarType.Float, images.size(0), 2L * config().latentChannels(),
                images.size(2) / downsampleFactor(), images.size(3) / downsampleFactor());
        try (PointerScope s = new PointerScope(); InferenceMode g = new InferenceMode()) {
            out.copy_(model.moments(images));
        }
        return out;
    }

    /**
     * Scaled latents of images: {@code scaling * (mean + std * eps - shift)} with image i's eps drawn from a CPU
     * generator seeded with {@code noiseSeeds[i]}, so a latent does not depend on batch composition.
     */
    public Tensor encode(Tensor images, long[] noiseSeeds) {
        long n = images.size(0);
        if (noiseSeeds.length != n) throw new IllegalArgumentException(n + " images but " + noiseSeeds.length + " seeds");
        AutoencoderKLConfig c = config();
        Tensor out = Tensors.empty(ScalarType.Float, n, c.latentChannels(), images.size(2) / downsampleFactor(),
                images.size(3) / downsampleFactor());
        try (PointerScope s = new PointerScope(); InferenceMode g = new InferenceMode()) {
            DiagonalGaussian p = DiagonalGaussian.of(model.moments(images));
            Tensor eps = noise(noiseSeeds, Tensors.shape(p.mean()));
            out.copy_(p.sample(eps).sub(new Scalar(c.shiftFactor())).mul(new Scalar(c.scalingFactor())));
        }
        return out;
    }

    /** Standard normal noise of the given (N, ...) shape, sample i from a generator seeded with seeds[i]. */
    public static Tensor noise(long[] seeds, long[] shape) {
        long[] one = java.util.Arrays.copyOfRange(shape, 1, shape.length);
        TensorVector parts = new TensorVector();
        for (long seed : seeds)
            parts.push_back(torch.randn(one, new GeneratorOptional(torch.make_generator_cpu(seed)), Tensors.options(ScalarType.Float)));
        return torch.stack(parts, 0);
    }

    // ------------------------------------------------------------------------------------------------ decoding

    /**
     * How to decode: {@code batch} latents per decoder call (0 = as many as fit the budget); {@code tile} side in
     * latents (0 = never tile, -1 = tile only latents whose decode would not fit the budget); {@code overlap} in
     * latents (-1 = tile / 4).
     */
    public record DecodeOptions(int batch, int tile, int overlap, long memoryBudget) {
        public DecodeOptions {
            if (batch < 0) throw new VaeException("decode batch must be >= 0 (0 = automatic), got " + batch);
            if (tile < -1) throw new VaeException("tile must be >= 0 latents (0 = off) or -1 (automatic), got " + tile);
            if (tile > 0 && tile < 2) throw new VaeException("tile must be at least 2 latents, got " + tile);
            if (overlap < -1 || (tile > 0 && overlap >= tile))
                throw new VaeException("tile overlap must be in 0.." + (tile - 1) + " latents, got " + overlap);
            if (memoryBudget < 1 << 20) throw new VaeException("memory budget below 1 MB: " + memoryBudget);
        }

        public static DecodeOptions defaults() {
            return new DecodeOptions(0, -1, -1, DEFAULT_MEMORY_BUDGET);
        }

        public DecodeOptions withBatch(int b) {
            return new DecodeOptions(b, tile, overlap, memoryBudget);
        }

        public DecodeOptions withTile(int t, int o) {
            return new DecodeOptions(batch, t, o, memoryBudget);
        }
    }

    /** Decoding progress, in latents done. */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (done, total) -> {};

        void update(int done, int total);
    }

    /**
     * Estimated peak activation bytes of decoding one h x w latent: 6 tensors of the decoder's widest activation,
     * float32 (a ResNet block's input, its two convolutions' outputs, a norm output, the shortcut, plus convolution
     * workspace; measured for sd-vae-ft-ema at 32x32 latents: 385 MB per latent against 6 x 67 MB estimated).
     */
    public long decodeBytesPerLatent(long h, long w) {
        List<Integer> boc = config().blockOutChannels();
        int levels = boc.size();
        long max = 0;
        for (int i = 0; i < levels; i++) {
            long area = h * w << (2 * i);
            int out = boc.get(levels - 1 - i), in = i == 0 ? out : boc.get(levels - i);
            max = Math.max(max, Math.max(in, out) * area);
            if (i < levels - 1) max = Math.max(max, out * area * 4);
        }
        return 6 * 4 * max;
    }

    /** Checks that latents fit this VAE: (N, latent_channels, h, w), finite shape. */
    public void checkLatents(Tensor latents, String source) {
        int c = config().latentChannels();
        if (latents.dim() != 4 || latents.size(1) != c || latents.size(0) < 1 || latents.size(2) < 1 || latents.size(3) < 1)
            throw new VaeException(source + ": latents of shape " + Tensors.shapeString(latents) + " do not fit the VAE, which decodes (N, "
                    + c + ", h, w)" + (latents.dim() == 3 && latents.size(0) == c ? " (add the batch dimension)" : ""));
        if (!latents.is_floating_point())
            throw new VaeException(source + ": latents must be floating point, got " + latents.scalar_type().intern());
    }

    /**
     * Scaled latents (N, C, h, w) to images (N, 3, h * f, w * f), unclamped (about [-1, 1]). Divides by the scaling
     * factor (and adds the shift) first, as the reference's sampler does before {@code vae.decode}.
     */
    public Tensor decode(Tensor latents, DecodeOptions o, Progress progress) {
        checkLatents(latents, "decode");
        AutoencoderKLConfig c = config();
        int f = downsampleFactor();
        long n = latents.size(0), h = latents.size(2), w = latents.size(3);
        long perLatent = decodeBytesPerLatent(h, w);
        int tile = o.tile();
        if (tile < 0) tile = perLatent > o.memoryBudget() ? autoTile(o.memoryBudget()) : 0;
        if (tile > 0 && h <= tile && w <= tile) tile = 0;
        int overlap = tile == 0 ? 0 : o.overlap() >= 0 ? Math.min(o.overlap(), tile - 1) : tile / 4;
        long per = tile > 0 ? decodeBytesPerLatent(Math.min(h, tile), Math.min(w, tile)) : perLatent;
        int batch = o.batch() > 0 ? o.batch() : (int) Math.max(1, Math.min(256, o.memoryBudget() / per));
        Tensor out = Tensors.empty(ScalarType.Float, n, c.outChannels(), h * f, w * f);
        Tensor z = latents.to(ScalarType.Float);
        if (tile == 0) {
            for (long from = 0; from < n; from += batch) {
                long len = Math.min(batch, n - from);
                try (PointerScope s = new PointerScope(); InferenceMode g = new InferenceMode()) {
                    out.narrow(0, from, len).copy_(model.decode(unscale(z.narrow(0, from, len))));
                }
                progress.update((int) (from + len), (int) n);
            }
        } else {
            decodeTiled(z, out, f, tile, overlap, batch, t -> model.decode(unscale(t)), progress);
        }
        return out;
    }

    /**
     * As {@link #decode}, straight to uint8 NHWC as the reference's sample_ddp.py writes samples ({@code
     * clamp(127.5 x + 128, 0, 255)} truncated): decodes in chunks so that only one chunk's float images exist at a
     * time (50,000 decoded 256x256 samples are 9.8 GB as uint8, 39 GB as float).
     */
    public Tensor decodeToUint8(Tensor latents, DecodeOptions o, Progress progress) {
        checkLatents(latents, "decode");
        int f = downsampleFactor();
        long n = latents.size(0), h = latents.size(2) * f, w = latents.size(3) * f;
        Tensor out = Tensors.empty(ScalarType.Byte, n, h, w, config().outChannels());
        long chunk = Math.max(1, Math.min(n, Math.max(o.batch(), o.memoryBudget() / Math.max(1, decodeBytesPerLatent(latents.size(2), latents.size(3))))));
        for (long from = 0; from < n; from += chunk) {
            long len = Math.min(chunk, n - from);
            final long done = from;
            try (PointerScope s = new PointerScope()) {
                Tensor img = decode(latents.narrow(0, from, len), o, (d, t) -> progress.update((int) (done + d), (int) n));
                out.narrow(0, from, len).copy_(io.udit.sample.Sampling.toUint8Nhwc(img));
            }
        }
        return out;
    }

    private Tensor unscale(Tensor scaled) {
        AutoencoderKLConfig c = config();
        Tensor z = scaled.div(new Scalar(c.scalingFactor()));
        return c.shiftFactor() == 0 ? z : z.add(new Scalar(c.shiftFactor()));
    }

    /** The largest square tile (in latents, at least 4) whose decode fits the budget. */
    int autoTile(long budget) {
        int t = Math.max(4, config().sampleSize() / downsampleFactor());
        while (t > 4 && decodeBytesPerLatent(t, t) > budget) t /= 2;
        return t;
    }

    /** Tile origins along one axis: every tile - overlap, the last flush with the end. */
    static List<Long> origins(long size, int tile, int overlap) {
        List<Long> o = new ArrayList<>();
        if (size <= tile) {
            o.add(0L);
            return o;
        }
        long stride = tile - overlap;
        for (long p = 0; p + tile < size; p += stride) o.add(p);
        o.add(size - tile);
        return o;
    }

    /** 1-D blend weights of a tile side of n pixels: ramps of `band` pixels towards sides with a neighbour. */
    static float[] ramp(int n, int band, boolean before, boolean after) {
        float[] r = new float[n];
        for (int p = 0; p < n; p++) {
            double v = 1;
            if (band > 0 && before) v = Math.min(v, (p + 0.5) / band);
            if (band > 0 && after) v = Math.min(v, (n - p - 0.5) / band);
            r[p] = (float) v;
        }
        return r;
    }

    /**
     * Tiled decoding with any per-tile decoder (f = its upsampling factor): {@code out} (N, C, h f, w f) becomes the
     * weighted mean of the decoded tiles (see the class comment).
     */
    static void decodeTiled(Tensor z, Tensor out, int f, int tile, int overlap, int batch,
                            java.util.function.UnaryOperator<Tensor> decoder, Progress progress) {
        long n = z.size(0), h = z.size(2), w = z.size(3);
        List<Long> ys = origins(h, tile, overlap), xs = origins(w, tile, overlap);
        int th = (int) Math.min(h, tile), tw = (int) Math.min(w, tile);
        Tensor weight = Tensors.zeros(ScalarType.Float, 1, 1, h * f, w * f);
        out.zero_();
        int tiles = ys.size() * xs.size(), done = 0;
        for (int iy = 0; iy < ys.size(); iy++) {
            for (int ix = 0; ix < xs.size(); ix++) {
                long y0 = ys.get(iy), x0 = xs.get(ix);
                try (PointerScope s = new PointerScope(); InferenceMode g = new InferenceMode()) {
                    Tensor ry = Tensors.floats(ramp(th * f, overlap * f, iy > 0, iy < ys.size() - 1), 1, 1, (long) th * f, 1);
                    Tensor rx = Tensors.floats(ramp(tw * f, overlap * f, ix > 0, ix < xs.size() - 1), 1, 1, 1, (long) tw * f);
                    Tensor mask = ry.mul(rx);
                    weight.narrow(2, y0 * f, (long) th * f).narrow(3, x0 * f, (long) tw * f).add_(mask);
                    for (long from = 0; from < n; from += batch) {
                        long len = Math.min(batch, n - from);
                        Tensor part = z.narrow(0, from, len).narrow(2, y0, th).narrow(3, x0, tw);
                        Tensor img = decoder.apply(part);
                        out.narrow(0, from, len).narrow(2, y0 * f, (long) th * f).narrow(3, x0 * f, (long) tw * f).add_(img.mul(mask));
                    }
                }
                done++;
                progress.update((int) (n * done / tiles), (int) n);
            }
        }
        out.div_(weight);
    }
}
