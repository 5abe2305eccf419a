package io.udit.data;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Images in a folder, decoded lazily in {@link #read} and preprocessed exactly as DiT / ADM training does:
 * torchvision's {@code ImageFolder} loader ({@code convert("RGB")}), ADM's {@code center_crop_arr} (halve with
 * Pillow's BOX filter while the short side is at least twice the size, then Pillow BICUBIC so the short side equals
 * the size, then a centre crop), an optional random horizontal flip, and scaling to [-1, 1] as {@code (v / 255 -
 * 0.5) / 0.5}. The resampling reproduces Pillow's fixed-point code bit for bit (see {@link PilResample}); decoding
 * differences are listed in {@link Images}.
 *
 * <p>Layouts: ImageNet style {@code root/<class>/**} (classes are the sub-folders sorted by name, label = position;
 * files are found recursively, in the order of Python's {@code sorted(os.walk(...))} and {@code sorted(fnames)} as
 * torchvision does), or a flat folder of images (one class, named after the folder). Files whose extension is not
 * an image extension ({@link Images#EXTENSIONS}) are skipped with a warning (or rejected in strict mode); names
 * starting with a dot (hidden files and folders, e.g. {@code .DS_Store}, {@code .ipynb_checkpoints}) are ignored
 * (torchvision would take a hidden folder as a class). The file index is built at construction; a file that cannot
 * be decoded, or (unless {@code allowUpscale}) is smaller than the crop, fails its {@code read} with a
 * {@link DataException} naming the file.
 */
public final class ImageFolder implements Dataset {
    private static final System.Logger LOG = System.getLogger("io.udit.data");
    private static final float[] LUT = new float[256];

    static {
        for (int v = 0; v < 256; v++) LUT[v] = (v / 255f - 0.5f) / 0.5f;
    }

    /** Python's string order (by code point), which differs from String.compareTo only beyond the BMP. */
    static final Comparator<String> CODE_POINT_ORDER = (a, b) -> {
        int i = 0, j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i), cb = b.codePointAt(j);
            if (ca != cb) return Integer.compare(ca, cb);
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    };

    private final Path root;
    private final int resolution;
    private final boolean randomFlip;
    private final boolean allowUpscale;
    private final List<String> classes;
    private final String[] files; // relative to root, '/'-separated
    private final int[] labels;
    private final List<String> skipped;
    private final boolean flat;

    /** Random flip on, lenient about non-image files, no upscaling of small images. */
    public ImageFolder(Path root, int resolution) {
        this(root, resolution, true, false, false);
    }

    /**
     * @param randomFlip flip horizontally with probability 1/2 drawn from the read rng (as DiT's training does)
     * @param strict a non-image file is an error (naming it) instead of being skipped with a warning
     * @param allowUpscale enlarge images smaller than the crop (ADM does) instead of failing on them
     */
    public ImageFolder(Path root, int resolution, boolean randomFlip, boolean strict, boolean allowUpscale) {
        if (resolution < 1 || resolution > 4096)
            throw new DataException("image folder " + root + ": resolution " + resolution + " out of range 1..4096");
        if (!Files.isDirectory(root)) throw new DataException("image folder " + root + " does not exist or is not a folder");
        this.root = root;
        this.resolution = resolution;
        this.randomFlip = randomFlip;
        this.allowUpscale = allowUpscale;
        List<String> skip = new ArrayList<>();
        List<String> special = new ArrayList<>(); // FIFOs, sockets, devices: reading them could block or never end
        List<String> subdirs = new ArrayList<>(), topFiles = new ArrayList<>();
        for (Path p : list(root)) {
            String n = p.getFileName().toString();
            if (n.startsWith(".")) continue;
            if (Files.isDirectory(p)) subdirs.add(n);
            else if (Files.isRegularFile(p)) topFiles.add(n);
            else special.add(n);
        }
        subdirs.sort(CODE_POINT_ORDER);
        topFiles.sort(CODE_POINT_ORDER);
        List<String> fileList = new ArrayList<>();
        List<Integer> labelList = new ArrayList<>();
        if (subdirs.isEmpty()) {
            flat = true;
            String name = root.toAbsolutePath().normalize().getFileName() == null ? "images"
                    : root.toAbsolutePath().normalize().getFileName().toString();
            classes = List.of(name);
            for (String n : topFiles) {
                if (Images.hasImageExtension(root.resolve(n))) {
                    fileList.add(n);
                    labelList.add(0);
                } else {
                    skip.add(n);
                }
            }
        } else {
            flat = false;
            classes = List.copyOf(subdirs);
            skip.addAll(topFiles);
            List<String> empty = new ArrayList<>();
            for (int c = 0; c < subdirs.size(); c++) {
                int before = fileList.size();
                walk(root, subdirs.get(c), fileList, skip, special, new HashSet<>());
                for (int i = before; i < fileList.size(); i++) labelList.add(c);
                if (fileList.size() == before) empty.add(subdirs.get(c));
            }
            if (!empty.isEmpty())
                throw new DataException("image folder " + root + ": class folder" + (empty.size() > 1 ? "s " : " ")
                        + String.join(", ", empty.subList(0, Math.min(5, empty.size())))
                        + (empty.size() > 5 ? " (and " + (empty.size() - 5) + " more)" : "") + " hold no images ("
                        + String.join(", ", Images.EXTENSIONS.stream().sorted().toList()) + ")");
        }
        if (!special.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "image folder " + root + ": skipped " + special.size() + " entries that are not "
                    + "regular files (FIFOs, sockets, devices or dangling links): "
                    + String.join(", ", special.subList(0, Math.min(5, special.size()))) + (special.size() > 5 ? ", ..." : ""));
        }
        if (!skip.isEmpty()) {
            String examples = String.join(", ", skip.subList(0, Math.min(5, skip.size())))
                    + (skip.size() > 5 ? ", ..." : "");
            if (strict)
                throw new DataException("image folder " + root + ": " + root.resolve(skip.get(0))
                        + " is not an image file" + (skip.size() > 1 ? " (" + skip.size() + " such files: " + examples
                        + ")" : "") + (flat ? "" : "; files must be in class folders root/<class>/"));
            LOG.log(System.Logger.Level.WARNING, "image folder " + root + ": skipped " + skip.size()
                    + " non-image file" + (skip.size() > 1 ? "s" : "") + ": " + examples);
        }
        if (fileList.isEmpty())
            throw new DataException("image folder " + root + " holds no images ("
                    + String.join(", ", Images.EXTENSIONS.stream().sorted().toList()) + ")");
        this.files = fileList.toArray(new String[0]);
        this.labels = labelList.stream().mapToInt(Integer::intValue).toArray();
        List<String> allSkipped = new ArrayList<>(skip);
        allSkipped.addAll(special);
        this.skipped = List.copyOf(allSkipped);
    }

    private static List<Path> list(Path dir) {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) out.add(p);
        } catch (IOException e) {
            throw new DataException(dir + ": cannot list folder: " + e.getMessage(), e);
        }
        return out;
    }

    /**
     * Collects the image files under {@code root/rel} in torchvision's order: folders sorted by their path (as
     * {@code sorted(os.walk(...))} sorts tuples by their first element), files sorted by name within each.
     */
    private static void walk(Path root, String rel, List<String> files, List<String> skipped, List<String> special, Set<Path> seen) {
        List<String> dirs = new ArrayList<>();
        collectDirs(root, rel, dirs, seen);
        dirs.sort(CODE_POINT_ORDER); // paths as strings, '/' separated, like os.walk's roots
        for (String d : dirs) {
            List<String> names = new ArrayList<>();
            for (Path p : list(root.resolve(d))) {
                String n = p.getFileName().toString();
                if (n.startsWith(".") || Files.isDirectory(p)) continue;
                if (Files.isRegularFile(p)) names.add(n);
                else special.add(d + "/" + n);
            }
            names.sort(CODE_POINT_ORDER);
            for (String n : names) {
                String r = d + "/" + n;
                if (Images.hasImageExtension(root.resolve(r))) files.add(r);
                else skipped.add(r);
            }
        }
    }

    private static void collectDirs(Path root, String rel, List<String> out, Set<Path> seen) {
        Path dir = root.resolve(rel);
        try {
            if (!seen.add(dir.toRealPath())) return; // symlink cycle
        } catch (IOException e) {
            throw new DataException(dir + ": cannot resolve folder: " + e.getMessage(), e);
        }
        out.add(rel);
        for (Path p : list(dir)) {
            String n = p.getFileName().toString();
            if (!n.startsWith(".") && Files.isDirectory(p)) collectDirs(root, rel + "/" + n, out, seen);
        }
    }

    @Override public int size() { return files.length; }
    @Override public int numClasses() { return classes.size(); }
    @Override public int channels() { return 3; }
    @Override public int resolution() { return resolution; }
    @Override public List<String> classNames() { return classes; }

    /** The file of sample {@code index}. */
    public Path file(int index) {
        return root.resolve(files[index]);
    }

    public int label(int index) {
        return labels[index];
    }

    /** Non-image files that were skipped (relative to the root). */
    public List<String> skipped() {
        return skipped;
    }

    @Override
    public String describe() {
        return "image folder " + root + ": " + files.length + " images, " + classes.size() + " class"
                + (classes.size() == 1 ? "" : "es") + (flat ? " (flat folder)" : "") + ", RGB, ADM centre crop to "
                + resolution + "x" + resolution + (randomFlip ? ", random horizontal flip" : "")
                + (allowUpscale ? ", small images upscaled" : "")
                + (skipped.isEmpty() ? "" : ", " + skipped.size() + " non-image files skipped");
    }

    @Override
    public int read(int index, float[] dst, SplittableRandom rng) {
        if (index < 0 || index >= files.length)
            throw new IndexOutOfBoundsException("sample " + index + " outside 0.." + (files.length - 1));
        int res = resolution, n = res * res;
        if (dst.length < 3 * n) throw new IllegalArgumentException("dst holds " + dst.length + " floats, need " + 3 * n);
        Path file = file(index);
        Images.Rgb img = Images.readRgb(file);
        byte[] crop = centerCrop(img, res, allowUpscale, file);
        boolean flip = randomFlip && rng != null && rng.nextDouble() < 0.5;
        for (int y = 0; y < res; y++)
            for (int x = 0; x < res; x++) {
                int src = (y * res + (flip ? res - 1 - x : x)) * 3, o = y * res + x;
                dst[o] = LUT[crop[src] & 0xff];
                dst[n + o] = LUT[crop[src + 1] & 0xff];
                dst[2 * n + o] = LUT[crop[src + 2] & 0xff];
            }
        return labels[index];
    }

    /**
     * ADM's {@code center_crop_arr} on RGB bytes: returns {@code size x size x 3} bytes. {@code file} is for
     * messages only.
     */
    static byte[] centerCrop(Images.Rgb img, int size, boolean allowUpscale, Path file) {
        int w = img.width(), h = img.height();
        if (Math.min(w, h) < size && !allowUpscale)
            throw new DataException(file + ": image is " + w + "x" + h + ", smaller than the " + size + "x" + size
                    + " crop (a --resolution up to its short side fits it; udit encode --allow-upscale enlarges it as ADM does)");
        byte[] cur = img.data();
        while (Math.min(w, h) >= 2 * size) {
            int nw = w / 2, nh = h / 2;
            cur = PilResample.resize(cur, w, h, 3, nw, nh, PilResample.Filter.BOX);
            w = nw;
            h = nh;
        }
        double scale = (double) size / Math.min(w, h);
        // a thin strip upscaled so its short side is the crop size can need far more pixels than the image had
        double sw = Math.rint(w * scale), sh = Math.rint(h * scale);
        if (sw * sh > Images.MAX_PIXELS)
            throw new DataException(file + ": image of " + img.width() + "x" + img.height() + " is too thin for a " + size + "x"
                    + size + " crop: resizing it to " + (long) sw + "x" + (long) sh + " would exceed " + Images.MAX_PIXELS
                    + " pixels");
        int nw = (int) sw, nh = (int) sh; // Python round(): half to even
        if (nw < size || nh < size)
            throw new DataException(file + ": internal error: scaled " + w + "x" + h + " to " + nw + "x" + nh);
        cur = PilResample.resize(cur, w, h, 3, nw, nh, PilResample.Filter.BICUBIC);
        int cy = (nh - size) / 2, cx = (nw - size) / 2;
        byte[] out = new byte[size * size * 3];
        for (int y = 0; y < size; y++) System.arraycopy(cur, ((y + cy) * nw + cx) * 3, out, y * size * 3, size * 3);
        return out;
    }
}
