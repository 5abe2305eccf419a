package io.udit.sample;

import io.udit.data.Dataset;
import io.udit.model.Backbone;
import io.udit.report.ImageGrid;
import org.bytedeco.pytorch.Tensor;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Preview grids: {@code perClass} samples of every class, captioned with the training step, sampler, sampling steps
 * and guidance scale, and named by class (beside each row, or under each tile when a row mixes classes).
 */
public final class Previews {
    /** From this many samples per class on, each class gets a row of its own. */
    static final int OWN_ROW_FROM = 4;

    private Previews() {}

    /**
     * The preview grid as PNG after {@code trainingStep} steps (negative: not shown in the caption): {@code perClass}
     * images of every class, sampled as {@code request} says (its labels are replaced).
     */
    public static byte[] classGrid(Backbone model, Dataset data, int perClass, SampleRequest.Builder request, long trainingStep)
            throws IOException {
        return classGrid(model, data, perClass, request, trainingStep, Sampling::toUint8Nhwc);
    }

    /** As above, with the samples turned into uint8 NHWC pictures by {@code toPixels} (e.g. a VAE decoder for latents). */
    public static byte[] classGrid(Backbone model, Dataset data, int perClass, SampleRequest.Builder request, long trainingStep,
                                   java.util.function.UnaryOperator<Tensor> toPixels) throws IOException {
        int classes = data.numClasses();
        long[] labels = new long[classes * perClass];
        for (int c = 0; c < classes; c++) for (int i = 0; i < perClass; i++) labels[c * perClass + i] = c;
        SampleRequest r = request.labels(labels).build();
        Tensor x = Sampling.generate(model, r, Sampling.Progress.NONE);
        int columns = columnsFor(classes, perClass);
        ImageGrid.Labels text = ImageGrid.Labels.of(caption(trainingStep, r.sampler(), r.steps(), r.cfgScale()),
                namesOf(labels, data.classNames()), columns);
        Tensor pixels = toPixels.apply(x);
        return ImageGrid.png(gridOfUint8(pixels, columns, zoomFor((int) pixels.size(1)), text));
    }

    /**
     * Columns for {@code classes} x {@code perClass} class-major images: one class per row from {@link #OWN_ROW_FROM}
     * per class on; below that, whole classes side by side so the grid comes out about square.
     */
    public static int columnsFor(int classes, int perClass) {
        if (perClass >= OWN_ROW_FROM || classes <= 1) return perClass;
        int side = (int) Math.ceil(Math.sqrt((double) classes * perClass));
        int groups = Math.max(1, (side + perClass - 1) / perClass);
        return Math.min(classes, groups) * perClass;
    }

    /** "step 500 · ddim 25 steps · cfg 4.0" ({@code trainingStep} &lt; 0 leaves the step out). */
    public static String caption(long trainingStep, String sampler, int steps, double cfg) {
        String s = sampler + " " + steps + " steps \u00b7 cfg " + String.format(Locale.ROOT, "%.1f", cfg);
        return trainingStep >= 0 ? "step " + trainingStep + " \u00b7 " + s : s;
    }

    /** The class name of each label (the id itself when the dataset names fewer classes). */
    public static List<String> namesOf(long[] labels, List<String> classNames) {
        List<String> out = new ArrayList<>(labels.length);
        for (long l : labels) out.add(l >= 0 && l < classNames.size() ? classNames.get((int) l) : "class " + l);
        return out;
    }

    /** A grid image from (N, C, H, W) float samples in [-1, 1]. */
    public static BufferedImage gridOf(Tensor images, int columns, int zoom) {
        return gridOfUint8(Sampling.toUint8Nhwc(images), columns, zoom);
    }

    /** A grid image from (N, H, W, C) uint8 images. */
    public static BufferedImage gridOfUint8(Tensor u8, int columns, int zoom) {
        return gridOfUint8(u8, columns, zoom, ImageGrid.Labels.NONE);
    }

    /** A grid image from (N, H, W, C) uint8 images with a caption and class names. */
    public static BufferedImage gridOfUint8(Tensor u8, int columns, int zoom, ImageGrid.Labels labels) {
        long n = u8.size(0), h = u8.size(1), w = u8.size(2), c = u8.size(3);
        byte[] all = io.udit.engine.Tensors.toBytes(u8);
        List<BufferedImage> tiles = new ArrayList<>();
        int per = (int) (h * w * c);
        for (int i = 0; i < n; i++) {
            byte[] one = java.util.Arrays.copyOfRange(all, i * per, (i + 1) * per);
            tiles.add(ImageGrid.toImage(one, (int) h, (int) w, (int) c));
        }
        return ImageGrid.grid(tiles, columns, zoom, labels);
    }

    /** Integer upscaling that shows small images (e.g. 32 x 32) about 96 pixels wide, so names fit under them. */
    public static int zoomFor(int resolution) {
        return Math.max(1, 96 / Math.max(1, resolution));
    }
}
