package io.udit.data;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Decoding image files to 8-bit RGB the way {@code PIL.Image.open(f).convert("RGB")} does (torchvision's default
 * loader): grey is replicated, alpha is dropped (not composited), palettes are looked up; no colour management
 * (embedded ICC profiles are ignored, as Pillow's convert ignores them); EXIF orientation is not applied (Pillow
 * does not either). Deviations: 16-bit samples keep their high byte (Pillow clips 16-bit grey to 255 and keeps the
 * high byte of 16-bit RGB); CMYK/YCCK JPEGs are rejected; JPEG decoding is Java's IJG-based decoder, whose IDCT and
 * chroma upsampling may differ from libjpeg-turbo's by a level or so on some pixels.
 */
final class Images {
    private Images() {}

    /** File name extensions taken as images (those Java's ImageIO decodes). */
    static final Set<String> EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp", "gif", "tif", "tiff", "wbmp");
    /**
     * Refuse to decode images with more pixels than this (8192 x 8192; decoding one takes about 450 MB): checked
     * from the header before decoding, so a decompression bomb or a mistaken file cannot exhaust memory. The system
     * property {@code udit.images.maxPixels} lowers (or raises) it, e.g. for fuzzing.
     */
    static final long MAX_PIXELS = Long.getLong("udit.images.maxPixels", 1L << 26);

    static {
        ImageIO.setUseCache(false);
    }

    /** Pixels as interleaved RGB bytes, row by row. */
    record Rgb(int width, int height, byte[] data) {}

    static boolean hasImageExtension(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 && EXTENSIONS.contains(n.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    /** Decodes the first image of a file to RGB; DataException naming the file when that is not possible. */
    static Rgb readRgb(Path file) {
        BufferedImage img;
        try (InputStream raw = Files.newInputStream(file); ImageInputStream in = ImageIO.createImageInputStream(raw)) {
            if (in == null) throw new DataException(file + ": cannot open as an image stream");
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext())
                throw new DataException(file + ": not an image in a format Java can decode (" + sniff(file) + ")");
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                int w = reader.getWidth(0), h = reader.getHeight(0);
                if (w <= 0 || h <= 0) throw new DataException(file + ": image has size " + w + "x" + h);
                if ((long) w * h > MAX_PIXELS)
                    throw new DataException(file + ": image of " + w + "x" + h + " is too large (more than "
                            + MAX_PIXELS + " pixels)");
                img = reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (NoSuchFileException e) {
            throw new DataException(file + ": no such file");
        } catch (IOException | RuntimeException e) {
            if (e instanceof DataException d) throw d;
            String m = e.getMessage();
            if (m != null && m.contains("Unsupported Image Type"))
                throw new DataException(file + ": unsupported image type (CMYK or YCCK JPEG?): " + m, e);
            throw new DataException(file + ": corrupt or unreadable image: " + e.getClass().getSimpleName()
                    + (m == null ? "" : ": " + m), e);
        }
        if (img == null) throw new DataException(file + ": the decoder returned no image");
        try {
            return toRgb(img);
        } catch (RuntimeException e) {
            throw new DataException(file + ": cannot convert " + img.getColorModel() + " to RGB: " + e.getMessage(), e);
        }
    }

    /** RGB bytes of a decoded image, from the raw samples where that is what Pillow would give. */
    static Rgb toRgb(BufferedImage img) {
        int w = img.getWidth(), h = img.getHeight();
        byte[] out = new byte[w * h * 3];
        ColorModel cm = img.getColorModel();
        Raster r = img.getRaster();
        if (cm instanceof ComponentColorModel && !(cm instanceof IndexColorModel)) {
            int colours = cm.getNumColorComponents();
            int dt = r.getDataBuffer().getDataType();
            int bits = cm.getComponentSize(0);
            if ((colours == 1 || colours == 3) && (dt == DataBuffer.TYPE_BYTE || dt == DataBuffer.TYPE_USHORT)
                    && bits >= 8 && bits <= 16) {
                int shift = bits - 8;
                int[] row = new int[w];
                for (int c = 0; c < 3; c++) {
                    int band = colours == 1 ? 0 : c;
                    for (int y = 0; y < h; y++) {
                        r.getSamples(0, y, w, 1, band, row);
                        int o = y * w * 3 + c;
                        for (int x = 0; x < w; x++, o += 3) out[o] = (byte) Math.min(255, row[x] >> shift);
                    }
                }
                return new Rgb(w, h, out);
            }
            if (colours == 4) throw new DataException("4-colour-component (CMYK) images are not supported");
        }
        // palettes, packed RGB, low bit depths: getRGB maps through the colour model without colour conversion
        int[] argb = new int[w];
        for (int y = 0; y < h; y++) {
            img.getRGB(0, y, w, 1, argb, 0, w);
            int o = y * w * 3;
            for (int x = 0; x < w; x++) {
                int p = argb[x];
                out[o++] = (byte) (p >> 16);
                out[o++] = (byte) (p >> 8);
                out[o++] = (byte) p;
            }
        }
        return new Rgb(w, h, out);
    }

    /** A hint at what a file is, from its first bytes. */
    static String sniff(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] b = in.readNBytes(16);
            if (b.length == 0) return "empty file";
            StringBuilder hex = new StringBuilder("starts with");
            for (int i = 0; i < Math.min(8, b.length); i++) hex.append(String.format(" %02x", b[i] & 0xff));
            if (b.length >= 4 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F') hex.append(": RIFF/WebP?");
            else if (b.length >= 6 && b[0] == (byte) 0x93 && b[1] == 'N') hex.append(": a .npy array");
            return hex.toString();
        } catch (IOException e) {
            return "unreadable: " + e.getMessage();
        }
    }
}
