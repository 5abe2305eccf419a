package io.udit.sample;

import io.udit.data.Dataset;
import io.udit.model.Backbone;
import io.udit.report.ImageGrid;
import org.bytedeco.pytorch.Tensor;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Preview grids: one row per class, {@code perClass} samples each. */
public final class Previews {
    private Previews() {}

    public static byte[] classGrid(Backbone model, Dataset data, int perClass, String sampler, int steps, double cfg,
                                   boolean clip, long seed, String schedule) throws IOException {
        int classes = data.numClasses();
        long[] labels = new long[classes * perClass];
        for (int c = 0; c < classes; c++) for (int i = 0; i < perClass; i++) labels[c * perClass + i] = c;
        SampleRequest r = new SampleRequest(labels, sampler, steps, cfg,
                io.udit.diffusion.ClassifierFreeGuidance.Mode.STANDARD, seed, 0, clip, 0.0, 64, schedule);
        Tensor x = Sampling.generate(model, r, Sampling.Progress.NONE);
        return ImageGrid.png(gridOf(x, perClass, zoomFor(data.resolution())));
    }

    /** A grid image from (N, C, H, W) float samples in [-1, 1]. */
    public static BufferedImage gridOf(Tensor images, int columns, int zoom) {
        return gridOfUint8(Sampling.toUint8Nhwc(images), columns, zoom);
    }

    /** A grid image from (N, H, W, C) uint8 images. */
    public static BufferedImage gridOfUint8(Tensor u8, int columns, int zoom) {
        long n = u8.size(0), h = u8.size(1), w = u8.size(2), c = u8.size(3);
        byte[] all = io.udit.engine.Tensors.toBytes(u8);
        List<BufferedImage> tiles = new ArrayList<>();
        int per = (int) (h * w * c);
        for (int i = 0; i < n; i++) {
            byte[] one = java.util.Arrays.copyOfRange(all, i * per, (i + 1) * per);
            tiles.add(ImageGrid.toImage(one, (int) h, (int) w, (int) c));
        }
        return ImageGrid.grid(tiles, columns, zoom);
    }

    public static int zoomFor(int resolution) {
        return Math.max(1, 96 / Math.max(1, resolution));
    }
}
