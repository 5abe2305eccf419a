package io.udit.eval;

import io.udit.engine.Engine;
import io.udit.engine.NativeScopes;
import io.udit.engine.Tensors;
import io.udit.io.Npz;
import io.udit.report.ProgressBar;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The ADM evaluator's metrics (openai/guided-diffusion {@code evaluations/evaluator.py}) on the JVM: FID, sFID,
 * Inception Score, precision and recall of a sample batch against a reference batch, both in ADM's npz format
 * ({@link AdmBatchFile}), with the FID Inception network ({@link FidInceptionV3}).
 *
 * <p>As ADM: reference activations come from the reference's {@code arr_0}; its FID statistics are the precomputed
 * {@code mu/sigma/mu_s/sigma_s} when present, else computed from the activations (likewise for the samples); the
 * inception score is computed on the samples with ADM's 5,000-sample splits; precision/recall use k = 3 on pool3
 * features. A reference without {@code arr_0} gives FID and sFID only (precision/recall are skipped with a note).
 *
 * <p>Activations are cached next to each input as {@code <name>.udit-acts-<hash>.npz}, where the hash covers the
 * input file's content (SHA-256), the Inception weights file's content and the preprocessing version; if the input's
 * folder is not writable the cache goes to {@code $UDIT_CACHE_DIR/activations} (default {@code ~/.cache/udit/activations}).
 * A cache file that does not match (other hash, wrong shapes, unreadable) is recomputed and replaced.
 */
public final class AdmEvaluator {
    /** Bump when anything that changes activations changes (preprocessing, network code). */
    public static final String ACTIVATIONS_VERSION = "fid-inception-pytorch-fid-preproc-v1";

    public record Options(int batchSize, boolean cache, Path fallbackCacheDir, PrecisionRecall.Options precisionRecall, boolean progress) {
        public Options {
            if (batchSize < 1 || batchSize > 4096) throw new EvalException("batch size must be 1 to 4096, got " + batchSize);
        }

        public static Options defaults() {
            return new Options(50, true, defaultCacheDir(), PrecisionRecall.Options.ADM, true);
        }

        public Options withBatchSize(int b) {
            return new Options(b, cache, fallbackCacheDir, precisionRecall, progress);
        }

        public Options withCache(boolean c) {
            return new Options(batchSize, c, fallbackCacheDir, precisionRecall, progress);
        }

        public Options withFallbackCacheDir(Path d) {
            return new Options(batchSize, cache, d, precisionRecall, progress);
        }

        public Options withPrecisionRecall(PrecisionRecall.Options p) {
            return new Options(batchSize, cache, fallbackCacheDir, p, progress);
        }

        public Options withProgress(boolean p) {
            return new Options(batchSize, cache, fallbackCacheDir, precisionRecall, p);
        }
    }

    public static Path defaultCacheDir() {
        return ClassifierMetrics.defaultCacheDir().resolveSibling("activations");
    }

    /** pool3 (N x 2048) and spatial (N x 2023) float32 activations of one batch file. */
    public record Activations(Tensor pool3, Tensor spatial, long count, boolean fromCache, double seconds, Path cacheFile) {
        public double imagesPerSecond() {
            return fromCache || seconds <= 0 ? Double.NaN : count / seconds;
        }
    }

    private final FidInceptionV3 net;
    private final String netHash;
    private final Options options;

    public AdmEvaluator(FidInceptionV3 net, String netHash, Options options) {
        this.net = net;
        this.netHash = netHash;
        this.options = options;
    }

    /** Loads the Inception weights (and hashes the file for the activation cache key). */
    public static AdmEvaluator load(Path inceptionWeights, Options options) throws IOException {
        FidInceptionV3 net = FidInceptionV3.load(inceptionWeights);
        return new AdmEvaluator(net, ClassifierMetrics.sha256(inceptionWeights), options);
    }

    public FidInceptionV3 network() {
        return net;
    }

    /** Activations of a batch file's arr_0, from the cache when it matches. */
    public Activations activations(AdmBatchFile f, Consumer<String> log) throws IOException {
        if (!f.hasImages()) throw new EvalException(f.file() + " has no arr_0 images to compute activations from");
        String key = null;
        if (options.cache()) {
            key = ClassifierMetrics.sha256((ClassifierMetrics.sha256(f.file()) + "|" + netHash + "|" + ACTIVATIONS_VERSION)
                    .getBytes(StandardCharsets.UTF_8)).substring(0, 24);
            for (Path c : cacheCandidates(f.file(), key)) {
                Activations a = tryLoad(c, key, f.count(), log);
                if (a != null) return a;
            }
        }
        long n = f.count();
        Tensor pool = NativeScopes.outsideScopes(() -> Tensors.empty(ScalarType.Float, n, FidInceptionV3.POOL_DIM));
        Tensor spatial = NativeScopes.outsideScopes(() -> Tensors.empty(ScalarType.Float, n, FidInceptionV3.SPATIAL_DIM));
        long t0 = System.nanoTime();
        long done = 0;
        try (ProgressBar bar = options.progress() ? new ProgressBar("inception " + f.file().getFileName(), n) : null) {
            while (true) {
                try (PointerScope scope = new PointerScope()) {
                    Tensor batch = f.nextImages(options.batchSize());
                    if (batch == null) break;
                    long b = batch.size(0);
                    try (InferenceMode guard = new InferenceMode()) {
                        FidInceptionV3.Features feats = net.forward(batch);
                        pool.narrow(0, done, b).copy_(feats.pool3());
                        spatial.narrow(0, done, b).copy_(feats.spatial());
                    }
                    done += b;
                }
                if (bar != null) bar.update(done);
            }
        }
        if (done != n) throw new EvalException(f.file() + ": read " + done + " of " + n + " images");
        double secs = (System.nanoTime() - t0) / 1e9;
        Path written = null;
        if (options.cache()) written = store(f.file(), key, pool, spatial, log);
        return new Activations(pool, spatial, n, false, secs, written);
    }

    private List<Path> cacheCandidates(Path input, String key) {
        String name = input.getFileName().toString();
        String base = name.endsWith(".npz") ? name.substring(0, name.length() - 4) : name;
        String file = base + ".udit-acts-" + key + ".npz";
        List<Path> out = new ArrayList<>();
        Path dir = input.toAbsolutePath().getParent();
        if (dir != null) out.add(dir.resolve(file));
        if (options.fallbackCacheDir() != null) out.add(options.fallbackCacheDir().resolve(file));
        return out;
    }

    private Activations tryLoad(Path c, String key, long n, Consumer<String> log) {
        if (!Files.isRegularFile(c)) return null;
        try {
            Map<String, Tensor> m = NativeScopes.outsideScopes(() -> {
                try {
                    return Npz.read(c);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Tensor pool = m.get("pool3");
            Tensor spatial = m.get("spatial");
            Tensor k = m.get("key");
            if (pool == null || spatial == null || k == null) throw new IOException("arrays missing");
            if (!new String(Tensors.toBytes(k), StandardCharsets.US_ASCII).equals(key)) throw new IOException("other key");
            if (!Arrays.equals(Tensors.shape(pool), new long[] {n, FidInceptionV3.POOL_DIM})
                    || !Arrays.equals(Tensors.shape(spatial), new long[] {n, FidInceptionV3.SPATIAL_DIM})
                    || !Tensors.isType(pool, ScalarType.Float) || !Tensors.isType(spatial, ScalarType.Float)) {
                throw new IOException("wrong shapes " + Tensors.shapeString(pool) + " " + Tensors.shapeString(spatial));
            }
            log.accept("activations: using cache " + c);
            return new Activations(pool, spatial, n, true, 0, c);
        } catch (Exception e) {
            log.accept("activations: cache " + c + " is unusable (" + e.getMessage() + "); recomputing");
            return null;
        }
    }

    private Path store(Path input, String key, Tensor pool, Tensor spatial, Consumer<String> log) {
        LinkedHashMap<String, Tensor> m = new LinkedHashMap<>();
        m.put("pool3", pool);
        m.put("spatial", spatial);
        byte[] kb = key.getBytes(StandardCharsets.US_ASCII);
        m.put("key", Tensors.fromBytes(kb, ScalarType.Byte, kb.length));
        for (Path c : cacheCandidates(input, key)) {
            try {
                Files.createDirectories(c.getParent());
                Npz.write(c, m);
                log.accept("activations: cached in " + c);
                return c;
            } catch (IOException | RuntimeException e) {
                log.accept("activations: could not write " + c + " (" + e.getMessage() + ")");
            }
        }
        return null;
    }

    /** Softmax of the unbiased logits of pool3 features, in float32 (as ADM's TF softmax graph), batched. */
    public Tensor classProbabilities(Tensor pool3) {
        long n = pool3.size(0);
        Tensor out = NativeScopes.outsideScopes(() -> Tensors.empty(ScalarType.Float, n, FidInceptionV3.NUM_CLASSES));
        for (long lo = 0; lo < n; lo += 512) {
            long b = Math.min(512, n - lo);
            try (PointerScope scope = new PointerScope(); InferenceMode guard = new InferenceMode()) {
                Tensor logits = pool3.narrow(0, lo, b).mm(net.fcWeight.t());
                out.narrow(0, lo, b).copy_(torch.softmax(logits, 1, new ScalarTypeOptional()));
            }
        }
        return out;
    }

    /** Checks both files' formats, arrays and counts without running the network (throws {@link EvalException}). */
    public static void validateInputs(Path samplesFile, Path refFile) throws IOException {
        try (AdmBatchFile ref = AdmBatchFile.open(refFile); AdmBatchFile smp = AdmBatchFile.open(samplesFile)) {
            validate(smp, ref);
        }
    }

    private static void validate(AdmBatchFile smp, AdmBatchFile ref) {
        if (!smp.hasImages()) {
            throw new EvalException(smp.file() + " has no arr_0: the samples must be uint8 N x H x W x 3 images (np.savez(path, arr_0=x))");
        }
        if (smp.count() < 2) {
            throw new EvalException(smp.file() + " holds " + smp.count() + " image; FID needs at least 2 samples (and more than 2048 "
                    + "for a non-singular covariance; ADM uses 50,000)");
        }
        if (!ref.hasStatistics() && ref.count() < 2) {
            throw new EvalException(ref.file() + " holds " + ref.count() + " image; the reference needs at least 2");
        }
    }

    /** Everything the ADM evaluator prints, as an ordered map (see the class comment for the protocol). */
    public Map<String, Object> evaluate(Path samplesFile, Path refFile, Consumer<String> log) throws IOException {
        Engine.init();
        Consumer<String> say = log == null ? s -> { } : log;
        List<String> notes = new ArrayList<>();
        long t0 = System.nanoTime();
        LinkedHashMap<String, Object> out = new LinkedHashMap<>();
        try (AdmBatchFile ref = AdmBatchFile.open(refFile); AdmBatchFile smp = AdmBatchFile.open(samplesFile)) {
            validate(smp, ref);
            Activations refActs = ref.hasImages() ? activations(ref, say) : null;
            Activations smpActs = activations(smp, say);
            Frechet.Stats refPool;
            Frechet.Stats refSpatial;
            String refSource;
            if (ref.hasStatistics()) {
                refPool = ref.statistics(false);
                refSpatial = ref.statistics(true);
                refSource = "precomputed mu/sigma";
            } else {
                refPool = Frechet.Stats.of(refActs.pool3(), "reference pool3 features");
                refSpatial = Frechet.Stats.of(refActs.spatial(), "reference spatial features");
                refSource = "arr_0 activations";
            }
            Frechet.Stats smpPool;
            Frechet.Stats smpSpatial;
            if (smp.hasStatistics()) {
                smpPool = smp.statistics(false);
                smpSpatial = smp.statistics(true);
                notes.add("sample statistics were taken from the samples file's precomputed mu/sigma (as ADM does)");
            } else {
                smpPool = Frechet.Stats.of(smpActs.pool3(), "sample pool3 features");
                smpSpatial = Frechet.Stats.of(smpActs.spatial(), "sample spatial features");
            }
            long t1 = System.nanoTime();
            InceptionScore.Result is = InceptionScore.compute(classProbabilities(smpActs.pool3()));
            Frechet.Result fid = Frechet.distance(smpPool, refPool);
            Frechet.Result sfid = Frechet.distance(smpSpatial, refSpatial);
            PrecisionRecall.Result pr = null;
            if (refActs == null) {
                notes.add("precision and recall skipped: the reference has no arr_0 images, only precomputed statistics");
            } else if (refActs.count() < options.precisionRecall().k() + 1 || smpActs.count() < options.precisionRecall().k() + 1) {
                notes.add("precision and recall skipped: they need at least " + (options.precisionRecall().k() + 1) + " images in each batch");
            } else {
                pr = PrecisionRecall.compute(refActs.pool3(), smpActs.pool3(), options.precisionRecall());
            }
            double metricSeconds = (System.nanoTime() - t1) / 1e9;
            for (String n : fid.notes()) if (!notes.contains(n)) notes.add("FID: " + n);
            for (String n : sfid.notes()) if (!notes.contains(n)) notes.add("sFID: " + n);

            out.put("samples", describe(smp, smpActs));
            LinkedHashMap<String, Object> r = describe(ref, refActs);
            r.put("statistics", refSource);
            out.put("reference", r);
            out.put("inception_score", is.mean());
            out.put("inception_score_std", is.std());
            out.put("inception_score_splits", is.numSplits());
            out.put("fid", fid.value());
            out.put("sfid", sfid.value());
            out.put("precision", pr == null ? null : pr.precision());
            out.put("recall", pr == null ? null : pr.recall());
            out.put("fid_offset_applied", fid.offsetApplied() || sfid.offsetApplied());
            out.put("notes", new ArrayList<Object>(notes));
            LinkedHashMap<String, Object> timing = new LinkedHashMap<>();
            timing.put("total_seconds", (System.nanoTime() - t0) / 1e9);
            timing.put("metric_seconds", metricSeconds);
            timing.put("sample_inception_images_per_second", smpActs.fromCache() ? null : smpActs.imagesPerSecond());
            timing.put("threads", Engine.threadSettings());
            out.put("timing", timing);
        }
        return out;
    }

    private static LinkedHashMap<String, Object> describe(AdmBatchFile f, Activations a) {
        LinkedHashMap<String, Object> m = new LinkedHashMap<>();
        m.put("file", f.file().toString());
        m.put("images", f.count());
        long[] s = f.imageShape();
        m.put("image_size", s == null ? null : s[1] + "x" + s[2]);
        m.put("activations_from_cache", a == null ? null : a.fromCache());
        m.put("activations_cache_file", a == null || a.cacheFile() == null ? null : a.cacheFile().toString());
        return m;
    }
}
