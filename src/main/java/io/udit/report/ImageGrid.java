package io.udit.report;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;

/** Images (uint8 NHWC, 1 or 3 channels) laid out on a grid with a 2-pixel border, as PNG. */
public final class ImageGrid {
    private ImageGrid() {}

    /** Converts float CHW samples in [-1, 1] to uint8 HWC as DiT/U-DiT's sample_ddp.py: clamp(127.5 x + 128, 0, 255), truncated. */
    public static byte[] toUint8Hwc(float[] chw, int c, int h, int w) {
        byte[] out = new byte[h * w * c];
        for (int ch = 0; ch < c; ch++) {
            for (int i = 0; i < h * w; i++) {
                double v = 127.5f * chw[ch * h * w + i] + 128.0f; // float32 arithmetic like the reference; to(uint8) truncates
                int q = (int) Math.max(0, Math.min(255, v));
                out[i * c + ch] = (byte) q;
            }
        }
        return out;
    }

    public static BufferedImage toImage(byte[] hwc, int h, int w, int c) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int base = (y * w + x) * c;
                int r = hwc[base] & 0xff, gg = c >= 3 ? hwc[base + 1] & 0xff : r, b = c >= 3 ? hwc[base + 2] & 0xff : r;
                img.setRGB(x, y, (r << 16) | (gg << 8) | b);
            }
        }
        return img;
    }

    /** A grid of the given images (each h x w), {@code columns} per row, scaled up by an integer {@code zoom}. */
    public static BufferedImage grid(List<BufferedImage> images, int columns, int zoom) {
        if (images.isEmpty()) return new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        int h = images.get(0).getHeight() * zoom, w = images.get(0).getWidth() * zoom, pad = 2;
        int rows = (images.size() + columns - 1) / columns;
        BufferedImage out = new BufferedImage(columns * (w + pad) + pad, rows * (h + pad) + pad, BufferedImage.TYPE_INT_RGB);
        var g = out.createGraphics();
        g.setColor(java.awt.Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        g.setRenderingHint(java.awt.RenderingHints.KEY_INTERPOLATION, java.awt.RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
        for (int i = 0; i < images.size(); i++) {
            int r = i / columns, col = i % columns;
            g.drawImage(images.get(i), pad + col * (w + pad), pad + r * (h + pad), w, h, null);
        }
        g.dispose();
        return out;
    }

    public static byte[] png(BufferedImage img) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        ImageIO.write(img, "png", bos);
        return bos.toByteArray();
    }
}
