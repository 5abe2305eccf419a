package io.udit.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Opening datasets from a command-line spec:
 *
 * <ul>
 *   <li>{@code synthetic} or {@code synthetic:N}: {@link SyntheticShapes} with the first N shape classes;
 *   <li>{@code fashion-mnist} (the Debian package's folder) or {@code fashion-mnist:/path}: {@link FashionMnist};
 *   <li>{@code latents:/path} or a path holding {@code <name>_features/} + {@code <name>_labels/} (or being the
 *       features folder): {@link LatentFolder};
 *   <li>{@code images:/path} or any other folder: {@link ImageFolder}.
 * </ul>
 */
public final class Datasets {
    private Datasets() {}

    /** Options for {@link #open(String, Options)}; fluent setters. */
    public static final class Options {
        int resolution;
        long seed;
        int size = SyntheticShapes.DEFAULT_SIZE;
        boolean train = true;
        Boolean flip;
        boolean strict;
        boolean allowUpscale;
        int numClasses;
        boolean unconditional;

        /** Side length; 0 = the dataset's default (synthetic and Fashion-MNIST 32, image folders 256). */
        public Options resolution(int r) { this.resolution = r; return this; }

        /** Seed of the synthetic dataset. */
        public Options seed(long s) { this.seed = s; return this; }

        /** Number of synthetic samples. */
        public Options size(int n) { this.size = n; return this; }

        /** Train (default) or test split, where there is one. */
        public Options train(boolean t) { this.train = t; return this; }

        /** Random horizontal flip; default on for image folders (as DiT), off otherwise. */
        public Options flip(boolean f) { this.flip = f; return this; }

        /** Image folders: non-image files are errors instead of warnings. */
        public Options strict(boolean s) { this.strict = s; return this; }

        /** Image folders: enlarge images smaller than the crop instead of failing. */
        public Options allowUpscale(boolean a) { this.allowUpscale = a; return this; }

        /** Latent folders: class count (0 = read every label file to find it). */
        public Options numClasses(int k) { this.numClasses = k; return this; }

        /** Map every label to 0 (one class). */
        public Options unconditional(boolean u) { this.unconditional = u; return this; }
    }

    public static Dataset open(String spec) {
        return open(spec, new Options());
    }

    public static Dataset open(String spec, Options o) {
        Dataset d = openConditional(spec == null ? "" : spec.trim(), o);
        return o.unconditional ? unconditional(d) : d;
    }

    private static Dataset openConditional(String spec, Options o) {
        if (spec.isEmpty()) throw new DataException("empty dataset spec (try synthetic, fashion-mnist or a folder)");
        String lower = spec.toLowerCase(java.util.Locale.ROOT);
        if (lower.equals("synthetic") || lower.startsWith("synthetic:")) {
            int k = SyntheticShapes.MAX_CLASSES;
            if (lower.startsWith("synthetic:")) {
                try {
                    k = Integer.parseInt(spec.substring("synthetic:".length()).trim());
                } catch (NumberFormatException e) {
                    throw new DataException("dataset spec '" + spec + "': expected synthetic:N with N classes (1.."
                            + SyntheticShapes.MAX_CLASSES + ")");
                }
            }
            int res = o.resolution > 0 ? o.resolution : SyntheticShapes.DEFAULT_RESOLUTION;
            return new SyntheticShapes(o.seed, res, o.size, k);
        }
        if (lower.equals("fashion-mnist") || lower.startsWith("fashion-mnist:")) {
            Path dir = Path.of(lower.equals("fashion-mnist") ? FashionMnist.DEFAULT_DIR
                    : spec.substring("fashion-mnist:".length()));
            int res = o.resolution > 0 ? o.resolution : FashionMnist.DEFAULT_RESOLUTION;
            return new FashionMnist(dir, o.train, res, o.flip != null && o.flip);
        }
        if (lower.startsWith("latents:")) return latents(Path.of(spec.substring("latents:".length())), o);
        if (lower.startsWith("images:")) return images(Path.of(spec.substring("images:".length())), o);
        Path p = Path.of(spec);
        if (!Files.exists(p))
            throw new DataException("dataset '" + spec + "': no such file or folder (specs: synthetic[:N], "
                    + "fashion-mnist[:/path], latents:/path, images:/path, or a folder)");
        if (!Files.isDirectory(p)) throw new DataException("dataset '" + spec + "' is a file; give a folder");
        if (LatentFolder.findLayout(p) != null) return latents(p, o);
        return images(p, o);
    }

    private static Dataset latents(Path p, Options o) {
        LatentFolder l = LatentFolder.open(p, o.numClasses, o.flip != null && o.flip);
        if (o.resolution > 0 && o.resolution != l.resolution())
            throw new DataException(p + ": latents are " + l.resolution() + "x" + l.resolution() + ", but resolution "
                    + o.resolution + " was asked for");
        return l;
    }

    private static Dataset images(Path p, Options o) {
        int res = o.resolution > 0 ? o.resolution : 256;
        return new ImageFolder(p, res, o.flip == null || o.flip, o.strict, o.allowUpscale);
    }

    /** The same samples with every label mapped to 0 and a single class. */
    public static Dataset unconditional(Dataset d) {
        if (d instanceof Unconditional) return d;
        return new Unconditional(d);
    }

    private static final class Unconditional implements Dataset {
        private final Dataset d;

        Unconditional(Dataset d) {
            this.d = d;
        }

        @Override public int size() { return d.size(); }
        @Override public int numClasses() { return 1; }
        @Override public int channels() { return d.channels(); }
        @Override public int resolution() { return d.resolution(); }
        @Override public List<String> classNames() { return List.of("unconditional"); }
        @Override public boolean isImage() { return d.isImage(); }
        @Override public String describe() { return d.describe() + " (unconditional: labels ignored)"; }

        @Override
        public int read(int index, float[] dst, SplittableRandom rng) {
            d.read(index, dst, rng);
            return 0;
        }
    }
}
