package io.udit.data;

/**
 * Pillow's {@code Image.resize} for 8-bit images (libImaging/Resample.c, Pillow 4 to 11): separable convolution
 * with the filter stretched by the scale when downscaling (antialias), coefficients normalised per output pixel and
 * converted to 22-bit fixed point, horizontal pass first with its result rounded to 8 bits, then the vertical pass.
 * Same double arithmetic, same rounding and clipping, so the output is bit-identical to Pillow's (checked against
 * Pillow 9.4 in the tests).
 */
final class PilResample {
    private PilResample() {}

    /** Pillow's filters (support and kernel). */
    enum Filter {
        /** {@code Image.BOX}: support 0.5. */
        BOX(0.5) {
            @Override double weight(double x) {
                return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
            }
        },
        /** {@code Image.BILINEAR}: support 1. */
        BILINEAR(1.0) {
            @Override double weight(double x) {
                if (x < 0.0) x = -x;
                return x < 1.0 ? 1.0 - x : 0.0;
            }
        },
        /** {@code Image.BICUBIC}: Keys cubic with a = -0.5, support 2. */
        BICUBIC(2.0) {
            @Override double weight(double x) {
                final double a = -0.5;
                if (x < 0.0) x = -x;
                if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
                if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
                return 0.0;
            }
        };

        final double support;

        Filter(double support) {
            this.support = support;
        }

        abstract double weight(double x);
    }

    private static final int PRECISION_BITS = 32 - 8 - 2;

    /** Per output pixel: first input index, number of taps, fixed-point weights (ksize each). */
    private static final class Coeffs {
        final int ksize;
        final int[] bounds;
        final int[] kk;

        Coeffs(int ksize, int[] bounds, int[] kk) {
            this.ksize = ksize;
            this.bounds = bounds;
            this.kk = kk;
        }
    }

    /** precompute_coeffs + normalize_coeffs_8bpc with box = [0, inSize). */
    private static Coeffs coeffs(int inSize, int outSize, Filter f) {
        double in0 = 0, in1 = inSize;
        double scale = (in1 - in0) / outSize;
        double filterscale = scale < 1.0 ? 1.0 : scale;
        double support = f.support * filterscale;
        int ksize = (int) Math.ceil(support) * 2 + 1;
        int[] bounds = new int[outSize * 2];
        double[] pre = new double[outSize * ksize];
        double ss = 1.0 / filterscale;
        for (int xx = 0; xx < outSize; xx++) {
            double center = in0 + (xx + 0.5) * scale;
            double ww = 0.0;
            int xmin = (int) (center - support + 0.5);
            if (xmin < 0) xmin = 0;
            int xmax = (int) (center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;
            int k = xx * ksize;
            for (int x = 0; x < xmax; x++) {
                double w = f.weight((x + xmin - center + 0.5) * ss);
                pre[k + x] = w;
                ww += w;
            }
            for (int x = 0; x < xmax; x++) if (ww != 0.0) pre[k + x] /= ww;
            bounds[xx * 2] = xmin;
            bounds[xx * 2 + 1] = xmax;
        }
        int[] kk = new int[pre.length];
        for (int i = 0; i < pre.length; i++)
            kk[i] = pre[i] < 0 ? (int) (-0.5 + pre[i] * (1 << PRECISION_BITS))
                    : (int) (0.5 + pre[i] * (1 << PRECISION_BITS));
        return new Coeffs(ksize, bounds, kk);
    }

    private static int clip8(int in) {
        if (in >= (1 << PRECISION_BITS << 8)) return 255;
        if (in <= 0) return 0;
        return in >> PRECISION_BITS;
    }

    /**
     * Resizes interleaved 8-bit pixels ({@code channels} bytes per pixel, rows of {@code w} pixels) to {@code nw x
     * nh}. Returns {@code src} itself when the size does not change, as Pillow returns a copy.
     */
    static byte[] resize(byte[] src, int w, int h, int channels, int nw, int nh, Filter f) {
        if (nw < 1 || nh < 1) throw new IllegalArgumentException("target size " + nw + "x" + nh);
        if (src.length < (long) w * h * channels) throw new IllegalArgumentException("source too short");
        if (nw == w && nh == h) return src;
        Coeffs horiz = coeffs(w, nw, f), vert = coeffs(h, nh, f);
        byte[] cur = src;
        int cw = w, ch = h;
        int[] vb = vert.bounds.clone();
        if (nw != w) {
            int yFirst = vb[0];
            int yLast = vb[nh * 2 - 2] + vb[nh * 2 - 1];
            for (int i = 0; i < nh; i++) vb[i * 2] -= yFirst;
            int rows = nh != h ? yLast - yFirst : h;
            if (nh == h) yFirst = 0;
            cur = horizontal(src, w, channels, rows, yFirst, nw, horiz);
            cw = nw;
            ch = rows;
        }
        if (nh != h) cur = vertical(cur, cw, channels, nh, vb, vert);
        return cur;
    }

    private static byte[] horizontal(byte[] in, int w, int c, int rows, int yOffset, int nw, Coeffs co) {
        byte[] out = new byte[nw * rows * c];
        int half = 1 << (PRECISION_BITS - 1);
        int[] kk = co.kk, b = co.bounds;
        int ks = co.ksize;
        for (int yy = 0; yy < rows; yy++) {
            int rowIn = (yy + yOffset) * w * c, rowOut = yy * nw * c;
            for (int xx = 0; xx < nw; xx++) {
                int xmin = b[xx * 2], xmax = b[xx * 2 + 1], k = xx * ks;
                for (int ch = 0; ch < c; ch++) {
                    int ss = half;
                    int p = rowIn + xmin * c + ch;
                    for (int x = 0; x < xmax; x++, p += c) ss += (in[p] & 0xff) * kk[k + x];
                    out[rowOut + xx * c + ch] = (byte) clip8(ss);
                }
            }
        }
        return out;
    }

    private static byte[] vertical(byte[] in, int w, int c, int nh, int[] b, Coeffs co) {
        byte[] out = new byte[w * nh * c];
        int half = 1 << (PRECISION_BITS - 1);
        int[] kk = co.kk;
        int ks = co.ksize, stride = w * c;
        for (int yy = 0; yy < nh; yy++) {
            int ymin = b[yy * 2], ymax = b[yy * 2 + 1], k = yy * ks, rowOut = yy * stride;
            for (int i = 0; i < stride; i++) {
                int ss = half;
                int p = ymin * stride + i;
                for (int y = 0; y < ymax; y++, p += stride) ss += (in[p] & 0xff) * kk[k + y];
                out[rowOut + i] = (byte) clip8(ss);
            }
        }
        return out;
    }
}
