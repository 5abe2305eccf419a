package io.udit.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Fashion-MNIST (or any MNIST-layout set of 10 classes) from the four IDX files in a folder: {@code
 * train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte}, {@code t10k-images-idx3-ubyte}, {@code
 * t10k-labels-idx1-ubyte}, each raw or gzipped ({@code .gz}; the Debian package {@code dataset-fashion-mnist} ships
 * the gzipped ones in {@value #DEFAULT_DIR}). The dot-named variants ({@code train-images.idx3-ubyte}) are found
 * too. Only the chosen split is loaded, at construction, into memory (47 MB for train), and fully validated then.
 *
 * <p>One channel, values scaled to [-1, 1] as {@code (v / 255 - 0.5) / 0.5}. The native resolution is 28; a
 * larger resolution pads with background value -1 on all sides (left/top get {@code (res - 28) / 2}). The
 * default is 32, which diffusion transformers with patch and down factors of 2 and 4 need.
 */
public final class FashionMnist implements Dataset {
    public static final String DEFAULT_DIR = "/usr/share/datasets/fashion-mnist";
    public static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    public static final int DEFAULT_RESOLUTION = 32;

    private static final float[] LUT = new float[256];

    static {
        for (int v = 0; v < 256; v++) LUT[v] = (v / 255f - 0.5f) / 0.5f;
    }

    private final Path dir;
    private final boolean train;
    private final int resolution;
    private final int side; // native side (28)
    private final int count;
    private final byte[] pixels;
    private final byte[] labels;
    private final boolean flip;

    /** The train split from {@value #DEFAULT_DIR}, padded to 32. */
    public FashionMnist() {
        this(Path.of(DEFAULT_DIR), true, DEFAULT_RESOLUTION, false);
    }

    public FashionMnist(Path dir, boolean train) {
        this(dir, train, DEFAULT_RESOLUTION, false);
    }

    /**
     * @param resolution 28 (native) or larger to pad with -1
     * @param flip random horizontal flip (probability 1/2 from the read rng); off by default
     */
    public FashionMnist(Path dir, boolean train, int resolution, boolean flip) {
        if (!Files.isDirectory(dir))
            throw new DataException("Fashion-MNIST folder " + dir + " does not exist or is not a folder"
                    + (dir.toString().equals(DEFAULT_DIR)
                            ? " (install the Debian package dataset-fashion-mnist, or give another folder)" : ""));
        String split = train ? "train" : "t10k";
        Path imageFile = find(dir, split + "-images", "idx3-ubyte");
        Path labelFile = find(dir, split + "-labels", "idx1-ubyte");
        Idx images = Idx.read(imageFile, 3);
        Idx labs = Idx.read(labelFile, 1);
        int rows = images.dims[1], cols = images.dims[2];
        if (rows != cols)
            throw new DataException(imageFile + ": images are " + rows + "x" + cols + ", expected square images");
        if (rows > 1024) throw new DataException(imageFile + ": images of " + rows + "x" + cols + " are implausible");
        if (images.dims[0] != labs.dims[0])
            throw new DataException(imageFile + " holds " + images.dims[0] + " images but " + labelFile + " holds "
                    + labs.dims[0] + " labels");
        for (int i = 0; i < labs.data.length; i++) {
            int l = labs.data[i] & 0xff;
            if (l >= CLASS_NAMES.size())
                throw new DataException(labelFile + ": label " + l + " of sample " + i + " is outside 0.."
                        + (CLASS_NAMES.size() - 1));
        }
        if (resolution < rows || resolution > 4 * rows)
            throw new DataException("Fashion-MNIST resolution " + resolution + " must be between the native " + rows
                    + " (no padding) and " + 4 * rows);
        this.dir = dir;
        this.train = train;
        this.resolution = resolution;
        this.side = rows;
        this.count = images.dims[0];
        this.pixels = images.data;
        this.labels = labs.data;
        this.flip = flip;
    }

    /** The raw file if present, else the gzipped one; the dash and dot spellings of the name are both tried. */
    static Path find(Path dir, String stem, String ext) {
        String[] names = {stem + "-" + ext, stem + "-" + ext + ".gz", stem + "." + ext, stem + "." + ext + ".gz"};
        for (String n : names) {
            Path p = dir.resolve(n);
            if (Files.isRegularFile(p)) return p;
        }
        throw new DataException("Fashion-MNIST folder " + dir + " has no " + names[0] + " nor " + names[1]
                + (dir.toString().equals(DEFAULT_DIR) ? " (install the Debian package dataset-fashion-mnist)" : ""));
    }

    @Override public int size() { return count; }
    @Override public int numClasses() { return CLASS_NAMES.size(); }
    @Override public int channels() { return 1; }
    @Override public int resolution() { return resolution; }
    @Override public List<String> classNames() { return CLASS_NAMES; }

    /** Label of sample {@code index} without decoding the image. */
    public int label(int index) {
        return labels[index] & 0xff;
    }

    @Override
    public String describe() {
        return "Fashion-MNIST " + (train ? "train" : "test") + " (" + dir + "): " + count + " images, 10 classes, grey "
                + side + "x" + side + (resolution > side ? " padded to " + resolution + "x" + resolution : "")
                + (flip ? ", random horizontal flip" : "");
    }

    @Override
    public int read(int index, float[] dst, SplittableRandom rng) {
        if (index < 0 || index >= count)
            throw new IndexOutOfBoundsException("sample " + index + " outside 0.." + (count - 1));
        int res = resolution, pad = (res - side) / 2;
        if (dst.length < res * res)
            throw new IllegalArgumentException("dst holds " + dst.length + " floats, need " + res * res);
        boolean mirror = flip && rng.nextDouble() < 0.5;
        if (res != side) java.util.Arrays.fill(dst, 0, res * res, -1f);
        int base = index * side * side;
        for (int y = 0; y < side; y++) {
            int row = base + y * side, out = (y + pad) * res + pad;
            if (mirror) for (int x = 0; x < side; x++) dst[out + x] = LUT[pixels[row + side - 1 - x] & 0xff];
            else for (int x = 0; x < side; x++) dst[out + x] = LUT[pixels[row + x] & 0xff];
        }
        return labels[index] & 0xff;
    }
}
