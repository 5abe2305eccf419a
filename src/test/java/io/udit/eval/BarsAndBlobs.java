package io.udit.eval;

import io.udit.data.Dataset;

import java.util.List;
import java.util.SplittableRandom;

/**
 * A tiny labelled image dataset generated on the fly (no files), for classifier tests: 4 classes on a noisy
 * background -- 0 horizontal bar, 1 vertical bar, 2 blob in the top-left quadrant, 3 blob in the bottom-right
 * quadrant -- with random position, thickness, size and a class-independent random colour. Sample i is a pure
 * function of (seed, i).
 */
final class BarsAndBlobs implements Dataset {
    private final int size;
    private final int channels;
    private final int res;
    private final long seed;

    BarsAndBlobs(int size, int channels, int res, long seed) {
        this.size = size;
        this.channels = channels;
        this.res = res;
        this.seed = seed;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public int numClasses() {
        return 4;
    }

    @Override
    public int channels() {
        return channels;
    }

    @Override
    public int resolution() {
        return res;
    }

    @Override
    public List<String> classNames() {
        return List.of("horizontal bar", "vertical bar", "blob top-left", "blob bottom-right");
    }

    @Override
    public int read(int index, float[] dst, SplittableRandom ignored) {
        if (index < 0 || index >= size) throw new IndexOutOfBoundsException(index);
        SplittableRandom r = new SplittableRandom(seed * 1_000_003L + index);
        int label = r.nextInt(4);
        float[] colour = new float[channels];
        for (int c = 0; c < channels; c++) colour[c] = (float) r.nextDouble(0.2, 1.0);
        int hw = res * res;
        for (int c = 0; c < channels; c++) {
            for (int p = 0; p < hw; p++) dst[c * hw + p] = (float) (-0.6 + 0.25 * r.nextGaussian());
        }
        int half = res / 2;
        if (label == 0 || label == 1) {
            int pos = r.nextInt(2, res - 3);
            int thick = r.nextInt(1, 4);
            int from = r.nextInt(0, res / 4);
            int to = res - r.nextInt(0, res / 4);
            for (int a = from; a < to; a++) {
                for (int t = 0; t < thick; t++) {
                    if (label == 0) paint(dst, colour, pos + t - 1, a);
                    else paint(dst, colour, a, pos + t - 1);
                }
            }
        } else {
            double cy = r.nextDouble(2, half - 1);
            double cx = r.nextDouble(2, half - 1);
            if (label == 3) {
                cy += half;
                cx += half;
            }
            double rad = r.nextDouble(1.5, res / 6.0);
            for (int y = 0; y < res; y++) {
                for (int x = 0; x < res; x++) {
                    if ((y - cy) * (y - cy) + (x - cx) * (x - cx) <= rad * rad) paint(dst, colour, y, x);
                }
            }
        }
        for (int i = 0; i < channels * hw; i++) dst[i] = Math.max(-1f, Math.min(1f, dst[i]));
        return label;
    }

    private void paint(float[] dst, float[] colour, int y, int x) {
        if (y < 0 || y >= res || x < 0 || x >= res) return;
        int hw = res * res;
        for (int c = 0; c < channels; c++) dst[c * hw + y * res + x] = colour[c];
    }

    @Override
    public String describe() {
        return "BarsAndBlobs(size=" + size + ", channels=" + channels + ", res=" + res + ", seed=" + seed + ")";
    }
}
