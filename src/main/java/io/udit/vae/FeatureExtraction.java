package io.udit.vae;

import io.udit.data.Seeds;

import io.udit.data.ImageFolder;
import io.udit.engine.Tensors;
import io.udit.io.AtomicFiles;
import io.udit.io.Json;
import io.udit.io.Npy;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * {@code udit encode}: an image folder to the latent feature layout of fast-DiT's {@code extract_features.py}, which
 * U-DiT's {@code train.py} and our {@link io.udit.data.LatentFolder} read: {@code <out>/imagenet<R>_features/<i>.npy}
 * (float32, shape (1, C, R/f, R/f), the scaled posterior sample {@code scaling_factor * z}) and {@code
 * <out>/imagenet<R>_labels/<i>.npy} (int64, shape (1,)), with {@code i} the image's position in the folder (the
 * reference numbers images in ImageFolder order too).
 *
 * <p>Images get ADM's centre crop ({@link ImageFolder}). Flips: the reference applies {@code RandomHorizontalFlip}
 * (p = 1/2) to each image once before encoding and stores one latent per image; {@link Flip#RANDOM} does that
 * (the coin is seeded by (seed, i)); {@link Flip#BOTH} stores the unflipped latent as {@code i} and the flipped
 * one as {@code N + i}; {@link Flip#NONE} (default) stores the unflipped image only. Posterior noise of entry
 * {@code i} comes from a generator seeded by (seed, i), so results do not depend on the batch size or on resuming.
 *
 * <p>Resumable: every .npy is written atomically (temp file + rename), the feature before its label, and an entry
 * counts as done only when both exist, so an interrupted run leaves no partial file that looks complete; a rerun
 * skips done entries after checking that {@code manifest.json} records the same images, crop, flip, seed and VAE.
 */
public final class FeatureExtraction {
    private FeatureExtraction() {}

    public enum Flip { NONE, RANDOM, BOTH }

    public static final String MANIFEST = "manifest.json";
    static final String FORMAT = "udit-latent-features-1";

    /**
     * @param skipNonImages skip (with a warning) files without an image extension instead of refusing the folder
     * @param allowUpscale  enlarge images smaller than the crop (ADM does) instead of refusing them
     */
    public record Options(Path images, Path out, int resolution, Flip flip, int batch, long seed, boolean skipNonImages,
                          boolean allowUpscale, int loaderThreads) {
        public Options {
            Objects.requireNonNull(images, "images");
            Objects.requireNonNull(out, "out");
            Objects.requireNonNull(flip, "flip");
            if (batch < 1) throw new IllegalArgumentException("--batch must be positive, got " + batch);
            if (resolution < 1) throw new IllegalArgumentException("--resolution must be positive, got " + resolution);
            if (loaderThreads < 1) throw new IllegalArgumentException("loader threads must be positive");
        }
    }

    public record Result(int entries, int written, int alreadyDone, Path featuresDir, Path labelsDir, Path manifest) {}

    /** Progress in entries done (written or found done) out of all entries. */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (done, total) -> {};

        void update(int done, int total);
    }

    private record Entry(int image, boolean flipped, String name) {}

    public static String prefix(int resolution) {
        return "imagenet" + resolution;
    }

    public static Result run(Vae vae, Options o, Progress progress) throws IOException {
        int f = vae.downsampleFactor();
        if (o.resolution() % f != 0)
            throw new VaeException("--resolution " + o.resolution() + " is not a multiple of the VAE's downsampling factor " + f);
        ImageFolder images = new ImageFolder(o.images(), o.resolution(), false, !o.skipNonImages(), o.allowUpscale());
        int n = images.size();
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            boolean flip = o.flip() == Flip.RANDOM && new SplittableRandom(Seeds.item(o.seed(), 0x464C4950L, i)).nextDouble() < 0.5;
            entries.add(new Entry(i, flip, i + ".npy"));
        }
        if (o.flip() == Flip.BOTH) for (int i = 0; i < n; i++) entries.add(new Entry(i, true, (n + i) + ".npy"));

        Files.createDirectories(o.out());
        Path features = o.out().resolve(prefix(o.resolution()) + "_features"), labels = o.out().resolve(prefix(o.resolution()) + "_labels");
        Path manifest = o.out().resolve(MANIFEST);
        LinkedHashMap<String, Object> m = manifest(vae, o, images, entries.size());
        checkResumable(o.out(), manifest, features, m);
        Files.createDirectories(features);
        Files.createDirectories(labels);
        removeTempFiles(features);
        removeTempFiles(labels);

        List<Entry> todo = new ArrayList<>();
        for (Entry e : entries)
            if (!(Files.isRegularFile(features.resolve(e.name())) && Files.isRegularFile(labels.resolve(e.name())))) todo.add(e);
        int done = entries.size() - todo.size();
        m.put("complete", false);
        m.put("written", 0);
        m.put("already_done", done);
        AtomicFiles.write(manifest, Json.writePretty(m).getBytes(StandardCharsets.UTF_8));
        progress.update(done, entries.size());

        int r = o.resolution(), plane = 3 * r * r;
        ExecutorService pool = Executors.newFixedThreadPool(o.loaderThreads(), runnable -> {
            Thread t = new Thread(runnable, "udit-encode-loader");
            t.setDaemon(true);
            return t;
        });
        int written = 0;
        try {
            List<List<Entry>> batches = new ArrayList<>();
            for (int s = 0; s < todo.size(); s += o.batch()) batches.add(todo.subList(s, Math.min(todo.size(), s + o.batch())));
            CompletableFuture<float[]> next = batches.isEmpty() ? null : load(pool, images, batches.get(0), plane, r);
            for (int b = 0; b < batches.size(); b++) {
                List<Entry> batch = batches.get(b);
                float[] pixels = join(next);
                next = b + 1 < batches.size() ? load(pool, images, batches.get(b + 1), plane, r) : null;
                long[] seeds = new long[batch.size()];
                for (int k = 0; k < seeds.length; k++) seeds[k] = Seeds.item(o.seed(), 0x4E4F4953L, Long.parseLong(batch.get(k).name().replace(".npy", "")));
                try (PointerScope scope = new PointerScope()) {
                    Tensor x = Tensors.floats(pixels, batch.size(), 3, r, r);
                    Tensor z = vae.encode(x, seeds);
                    for (int k = 0; k < batch.size(); k++) {
                        Entry e = batch.get(k);
                        Npy.write(features.resolve(e.name()), z.narrow(0, k, 1).contiguous());
                        Npy.write(labels.resolve(e.name()), Tensors.longs(new long[] {images.label(e.image())}, 1));
                        written++;
                        progress.update(done + written, entries.size());
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
        m.put("complete", true);
        m.put("written", written);
        m.put("finished", Instant.now().toString());
        AtomicFiles.write(manifest, Json.writePretty(m).getBytes(StandardCharsets.UTF_8));
        return new Result(entries.size(), written, done, features, labels, manifest);
    }

    private static CompletableFuture<float[]> load(ExecutorService pool, ImageFolder images, List<Entry> batch, int plane, int r) {
        return CompletableFuture.supplyAsync(() -> {
            float[] out = new float[batch.size() * plane];
            float[] one = new float[plane];
            for (int k = 0; k < batch.size(); k++) {
                Entry e = batch.get(k);
                images.read(e.image(), one, null);
                if (e.flipped()) flipHorizontally(one, 3, r);
                System.arraycopy(one, 0, out, k * plane, plane);
            }
            return out;
        }, pool);
    }

    private static float[] join(CompletableFuture<float[]> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            if (e.getCause() instanceof Error err) throw err;
            throw e;
        }
    }

    static void flipHorizontally(float[] chw, int c, int r) {
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < r; y++) {
                int row = (ch * r + y) * r;
                for (int x = 0; x < r / 2; x++) {
                    float t = chw[row + x];
                    chw[row + x] = chw[row + r - 1 - x];
                    chw[row + r - 1 - x] = t;
                }
            }
    }

    private static LinkedHashMap<String, Object> manifest(Vae vae, Options o, ImageFolder images, int entries) {
        LinkedHashMap<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("images", o.images().toAbsolutePath().normalize().toString());
        m.put("image_count", (long) images.size());
        m.put("entries", (long) entries);
        m.put("resolution", (long) o.resolution());
        m.put("preprocessing", "ADM center crop" + (o.allowUpscale() ? " (small images upscaled)" : "") + ", [-1, 1]");
        m.put("flip", o.flip().name().toLowerCase(java.util.Locale.ROOT));
        m.put("seed", o.seed());
        m.put("latent", "scaling_factor * (posterior sample - shift_factor)");
        m.put("latent_shape", List.of(1L, (long) vae.config().latentChannels(), (long) o.resolution() / vae.downsampleFactor(),
                (long) o.resolution() / vae.downsampleFactor()));
        m.put("features", prefix(o.resolution()) + "_features");
        m.put("labels", prefix(o.resolution()) + "_labels");
        m.put("num_classes", (long) images.numClasses());
        m.put("classes", images.classNames());
        m.put("vae", vae.describeMap());
        return m;
    }

    /** Keys whose values must agree for a rerun to continue an earlier one. */
    private static final List<String> SAME = List.of("format", "images", "image_count", "entries", "resolution", "preprocessing",
            "flip", "seed", "latent_shape", "classes", "vae");

    private static void checkResumable(Path out, Path manifest, Path features, Map<String, Object> now) throws IOException {
        if (!Files.exists(manifest)) {
            if (Files.isDirectory(features) && hasNpy(features))
                throw new VaeException(features + " already holds .npy files but " + out + " has no " + MANIFEST
                        + " (not written by udit encode): choose an empty --out folder");
            return;
        }
        Map<String, Object> before;
        try {
            before = Json.parseObject(Files.readString(manifest));
        } catch (IllegalArgumentException e) {
            throw new VaeException(manifest + ": unreadable (" + e.getMessage() + "); delete it and the features to start over", e);
        }
        List<String> differ = new ArrayList<>();
        for (String k : SAME) {
            Object a = withoutFolder(before.get(k)), b = withoutFolder(Json.parse(Json.write(now.get(k))));
            if (!Objects.equals(a, b)) differ.add(k + " (was " + abbreviate(a) + ", now " + abbreviate(b) + ")");
        }
        if (!differ.isEmpty())
            throw new VaeException(out + " holds features made with other settings: " + String.join("; ", differ)
                    + ". Use another --out folder, or delete this one to start over.");
    }

    /** The VAE may move: compare its config and weight file, not where it lies. */
    private static Object withoutFolder(Object o) {
        if (!(o instanceof Map<?, ?> m) || !m.containsKey("folder")) return o;
        LinkedHashMap<Object, Object> c = new LinkedHashMap<>(m);
        c.remove("folder");
        return c;
    }

    private static String abbreviate(Object o) {
        String s = Json.write(o);
        return s.length() > 120 ? s.substring(0, 117) + "..." : s;
    }

    private static boolean hasNpy(Path dir) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.npy")) {
            return ds.iterator().hasNext();
        }
    }

    /** Temp files of atomic writes that an interrupted run left (".<name>.<random>.tmp"). */
    private static void removeTempFiles(Path dir) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, ".*.tmp")) {
            for (Path p : ds) Files.deleteIfExists(p);
        }
    }
}
