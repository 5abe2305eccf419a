package io.udit.data;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Pre-extracted VAE latents in the layout of fast-DiT / U-DiT's {@code extract_features.py} and {@code train.py}:
 * {@code <root>/imagenet256_features/<n>.npy} (float32 or float16, shape (1, C, H, W) as saved, or (C, H, W)) and
 * {@code <root>/imagenet256_labels/<n>.npy} (int64 shape (1,) as saved, or a scalar), paired in the order of
 * {@code sorted(os.listdir(...))} (string order: 0, 1, 10, 100, ...), exactly as the reference's {@code
 * CustomDataset}. Any {@code <prefix>_features} / {@code <prefix>_labels} pair, or plain {@code features} / {@code
 * labels}, is accepted. Unlike the reference, the two folders must hold the same file names (a mismatch is an
 * error, not a silent mis-pairing), and non-{@code .npy} files are skipped with a warning.
 *
 * <p>The latents are used as stored (the reference stores them already multiplied by 0.18215). Random horizontal
 * flip is off by default: the reference flips images before encoding them. Shapes are checked for the first sample
 * at construction and for every sample read; labels are checked against the class count, which is given or found
 * by reading every label file at construction.
 */
public final class LatentFolder implements Dataset {
    private static final System.Logger LOG = System.getLogger("io.udit.data");
    /** Size cap of one label file (a scalar with its header). */
    private static final long MAX_LABEL_BYTES = 1 << 16;

    private final Path featuresDir;
    private final Path labelsDir;
    private final String[] names;
    private final int channels;
    private final int resolution;
    private final int numClasses;
    private final boolean flip;
    private final long maxFeatureBytes;

    /** Features and labels folder pair inside {@code root}, or null if {@code root} does not have that layout. */
    static Path[] findLayout(Path root) {
        if (!Files.isDirectory(root)) return null;
        List<Path[]> pairs = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) {
                String s = p.getFileName().toString();
                if ((s.endsWith("_features") || s.equals("features")) && Files.isDirectory(p)) {
                    Path labels = root.resolve(s.substring(0, s.length() - "features".length()) + "labels");
                    if (Files.isDirectory(labels)) pairs.add(new Path[] {p, labels});
                }
            }
        } catch (IOException e) {
            throw new DataException(root + ": cannot list folder: " + e.getMessage(), e);
        }
        if (pairs.size() > 1) {
            StringBuilder sb = new StringBuilder();
            for (Path[] p : pairs) sb.append(sb.length() == 0 ? "" : ", ").append(p[0].getFileName());
            throw new DataException(root + ": several latent feature folders (" + sb
                    + "): give the one to use, e.g. " + pairs.get(0)[0]);
        }
        if (!pairs.isEmpty()) return pairs.get(0);
        String n = root.getFileName() == null ? "" : root.getFileName().toString();
        if (n.endsWith("_features") || n.equals("features")) { // the features folder itself
            Path labels = root.resolveSibling(n.substring(0, n.length() - "features".length()) + "labels");
            if (Files.isDirectory(labels)) return new Path[] {root, labels};
        }
        return null;
    }

    /**
     * Opens the latent layout in (or at) {@code root}.
     *
     * @param numClasses the class count (e.g. 1000 for ImageNet), or 0 to take max label + 1 from all label files
     */
    public static LatentFolder open(Path root, int numClasses, boolean flip) {
        Path[] l = findLayout(root);
        if (l == null)
            throw new DataException(root + ": not a latent folder (expected <name>_features/ and <name>_labels/ "
                    + "with one .npy per sample, as fast-DiT's extract_features.py writes)");
        return new LatentFolder(l[0], l[1], numClasses, flip);
    }

    public LatentFolder(Path featuresDir, Path labelsDir, int numClasses, boolean flip) {
        this.featuresDir = featuresDir;
        this.labelsDir = labelsDir;
        this.flip = flip;
        List<String> feats = listNpy(featuresDir), labs = listNpy(labelsDir);
        if (feats.isEmpty()) throw new DataException(featuresDir + ": no .npy feature files");
        if (feats.size() != labs.size())
            throw new DataException(featuresDir + " holds " + feats.size() + " .npy files but " + labelsDir + " holds "
                    + labs.size() + ": the reference pairs them by sorted position, so they must match one to one");
        for (int i = 0; i < feats.size(); i++)
            if (!feats.get(i).equals(labs.get(i)))
                throw new DataException("latent folders disagree at sorted position " + i + ": "
                        + featuresDir.resolve(feats.get(i)) + " vs " + labelsDir.resolve(labs.get(i))
                        + " (feature and label files must have the same names)");
        this.names = feats.toArray(new String[0]);
        NpyArray first = NpyArray.read(featuresDir.resolve(names[0]), 1L << 26);
        long[] chw = sampleShape(first);
        if (chw[1] != chw[2] || chw[1] < 1 || chw[0] < 1 || chw[0] * chw[1] * chw[2] > (1 << 26))
            throw new DataException(first.file + ": latent shape " + NpyArray.shapeString(first.shape)
                    + " is not (1, C, H, H) or (C, H, H) of a plausible size");
        this.channels = (int) chw[0];
        this.resolution = (int) chw[1];
        this.maxFeatureBytes = (long) channels * resolution * resolution * 8 + 4096;
        if (numClasses > 0) {
            this.numClasses = numClasses;
        } else if (numClasses == 0) {
            long max = -1;
            for (int i = 0; i < names.length; i++) max = Math.max(max, readLabel(i, Integer.MAX_VALUE));
            this.numClasses = (int) max + 1;
        } else {
            throw new DataException("latent folder " + featuresDir + ": numClasses must be >= 0, got " + numClasses);
        }
    }

    private static List<String> listNpy(Path dir) {
        List<String> out = new ArrayList<>();
        int other = 0;
        String example = null;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (n.startsWith(".")) continue;
                if (n.endsWith(".npy") && !Files.isDirectory(p)) out.add(n);
                else if (other++ == 0) example = n;
            }
        } catch (IOException e) {
            throw new DataException(dir + ": cannot list folder: " + e.getMessage(), e);
        }
        if (other > 0)
            LOG.log(System.Logger.Level.WARNING, dir + ": skipped " + other + " entries that are not .npy files (e.g. "
                    + example + ")");
        out.sort(ImageFolder.CODE_POINT_ORDER);
        return out;
    }

    private static long[] sampleShape(NpyArray a) {
        long[] s = a.shape;
        if (s.length == 4 && s[0] == 1) return new long[] {s[1], s[2], s[3]};
        if (s.length == 3) return s.clone();
        throw new DataException(a.file + ": latent shape " + NpyArray.shapeString(s)
                + " is not (1, C, H, W) or (C, H, W)");
    }

    @Override public int size() { return names.length; }
    @Override public int numClasses() { return numClasses; }
    @Override public int channels() { return channels; }
    @Override public int resolution() { return resolution; }
    @Override public boolean isImage() { return false; }

    @Override
    public List<String> classNames() {
        List<String> n = new ArrayList<>(numClasses);
        for (int i = 0; i < numClasses; i++) n.add(Integer.toString(i));
        return n;
    }

    public Path featureFile(int index) {
        return featuresDir.resolve(names[index]);
    }

    public Path labelFile(int index) {
        return labelsDir.resolve(names[index]);
    }

    @Override
    public String describe() {
        return "latent folder " + featuresDir + " + " + labelsDir.getFileName() + ": " + names.length + " samples, "
                + numClasses + " classes, " + channels + "x" + resolution + "x" + resolution
                + (flip ? ", random horizontal flip" : "");
    }

    private long readLabel(int index, int classes) {
        Path f = labelFile(index);
        NpyArray a = NpyArray.read(f, MAX_LABEL_BYTES);
        if (a.count() != 1)
            throw new DataException(f + ": a label file must hold one value, it has shape " + NpyArray.shapeString(a.shape));
        if (a.kind == 'f' || a.kind == 'b')
            throw new DataException(f + ": label dtype is " + a.dtype() + ", expected an integer type (int64)");
        long v = a.getLong(0);
        if (v < 0 || v >= classes)
            throw new DataException(f + ": label " + v + " outside 0.." + (classes - 1));
        return v;
    }

    @Override
    public int read(int index, float[] dst, SplittableRandom rng) {
        if (index < 0 || index >= names.length)
            throw new IndexOutOfBoundsException("sample " + index + " outside 0.." + (names.length - 1));
        int c = channels, r = resolution, plane = r * r;
        if (dst.length < c * plane) throw new IllegalArgumentException("dst holds " + dst.length + " floats, need " + c * plane);
        NpyArray a = NpyArray.read(featureFile(index), maxFeatureBytes);
        long[] chw = sampleShape(a);
        if (chw[0] != c || chw[1] != r || chw[2] != r)
            throw new DataException(a.file + ": latent shape " + NpyArray.shapeString(a.shape) + " differs from ("
                    + c + ", " + r + ", " + r + ") of " + featureFile(0).getFileName());
        if (a.kind != 'f')
            throw new DataException(a.file + ": latent dtype is " + a.dtype() + ", expected float32 or float16");
        boolean mirror = flip && rng != null && rng.nextDouble() < 0.5;
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < r; y++) {
                int row = ch * plane + y * r;
                for (int x = 0; x < r; x++) {
                    float v = a.getFloat(row + (mirror ? r - 1 - x : x));
                    if (!Float.isFinite(v))
                        throw new DataException(a.file + ": non-finite value " + v + " at (" + ch + ", " + y + ", "
                                + (mirror ? r - 1 - x : x) + ")");
                    dst[row + x] = v;
                }
            }
        return (int) readLabel(index, numClasses);
    }
}
