package io.udit.data;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.MultipleGradientPaint;
import java.awt.RadialGradientPaint;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Area;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.PathIterator;
import java.awt.geom.Point2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Built-in class-conditional RGB dataset of anti-aliased shapes, needing no files: sample {@code index} is rendered
 * on the fly from {@code (seed, index)} alone (same seed and index give the same floats, in any thread).
 *
 * <p>Class {@code c} is the shape {@link #SHAPES}[c]; the label of sample {@code i} is {@code i % numClasses}, so
 * classes are exactly balanced. Position, size (circumscribed diameter 35-80% of the side), rotation, a mild
 * anisotropic stretch, the fill colour and the background (solid, linear or radial gradient, stripes; optional
 * light pixel noise) are drawn independently of the class. Colours of shape and background come from the same
 * distribution and every image is colour-inverted with probability 1/2, so every pixel has expected value 0.5 in
 * every channel whatever the class: the model has to learn the shape, not a colour lookup.
 */
public final class SyntheticShapes implements Dataset {
    /** Class names, in label order. */
    public static final List<String> SHAPES = List.of(
            "circle", "square", "triangle", "star", "cross", "ring", "heart", "arrow", "hexagon", "crescent");
    public static final int MAX_CLASSES = SHAPES.size();
    public static final int DEFAULT_RESOLUTION = 32;
    public static final int DEFAULT_SIZE = 50_000;

    /** Unit shapes: centred on their bounding box, farthest point at distance 1 from the centre. */
    private static final Shape[] UNIT = buildUnitShapes();

    private final long seed;
    private final int resolution;
    private final int size;
    private final int numClasses;
    private final ThreadLocal<Canvas> canvas;
    private final double minDiameter, maxDiameter;
    private final boolean plain;

    /** Seed 0, 32x32, 50,000 samples, all 10 classes. */
    public SyntheticShapes() {
        this(0L, DEFAULT_RESOLUTION, DEFAULT_SIZE, MAX_CLASSES);
    }

    public SyntheticShapes(long seed, int resolution, int size, int numClasses) {
        this(seed, resolution, size, numClasses, 0.35, 0.80);
    }

    /**
     * With the shapes' circumscribed diameter drawn uniformly from [minDiameter, maxDiameter] times the side
     * (default 0.35 to 0.80; larger shapes stay legible at 16x16).
     */
    public SyntheticShapes(long seed, int resolution, int size, int numClasses, double minDiameter, double maxDiameter) {
        this(seed, resolution, size, numClasses, minDiameter, maxDiameter, false);
    }

    /**
     * The demo's variant: large shapes on plain backgrounds (solid colours and two-colour gradients, no stripes, no
     * pixel noise), still varying in class-independent position, size, rotation and colours. A small model learns
     * it in minutes.
     */
    public static SyntheticShapes plain(long seed, int resolution, int size, int numClasses) {
        return plain(seed, resolution, size, numClasses, 0.55, 0.90);
    }

    /** The plain variant with shape diameters drawn from [minDiameter, maxDiameter] (shares of the side). */
    public static SyntheticShapes plain(long seed, int resolution, int size, int numClasses, double minDiameter, double maxDiameter) {
        return new SyntheticShapes(seed, resolution, size, numClasses, minDiameter, maxDiameter, true);
    }

    private SyntheticShapes(long seed, int resolution, int size, int numClasses, double minDiameter, double maxDiameter,
                            boolean plain) {
        this.plain = plain;
        if (!(minDiameter > 0 && minDiameter <= maxDiameter && maxDiameter <= 1.0))
            throw new DataException("synthetic shapes: diameter range must satisfy 0 < min <= max <= 1, got " + minDiameter + ".." + maxDiameter);
        this.minDiameter = minDiameter;
        this.maxDiameter = maxDiameter;
        if (resolution < 8 || resolution > 1024)
            throw new DataException("synthetic shapes: resolution " + resolution + " out of range 8..1024");
        if (size < 1) throw new DataException("synthetic shapes: size must be positive, got " + size);
        if (numClasses < 1 || numClasses > MAX_CLASSES)
            throw new DataException("synthetic shapes: numClasses " + numClasses + " out of range 1.." + MAX_CLASSES);
        this.seed = seed;
        this.resolution = resolution;
        this.size = size;
        this.numClasses = numClasses;
        this.canvas = ThreadLocal.withInitial(() -> new Canvas(resolution));
    }

    @Override public int size() { return size; }
    @Override public int numClasses() { return numClasses; }
    @Override public int channels() { return 3; }
    @Override public int resolution() { return resolution; }
    @Override public List<String> classNames() { return SHAPES.subList(0, numClasses); }

    public long seed() { return seed; }

    /** Label of sample {@code index} without rendering it. */
    public int label(int index) {
        return index % numClasses;
    }

    @Override
    public String describe() {
        return "synthetic shapes: " + size + " samples, " + numClasses + " classes (" + String.join(", ", classNames())
                + "), RGB " + resolution + "x" + resolution + ", seed " + seed
                + (minDiameter == 0.35 && maxDiameter == 0.80 ? "" : String.format(", shape diameter %.2f-%.2f", minDiameter, maxDiameter))
                + (plain ? ", plain backgrounds" : "");
    }

    /** Renders sample {@code index}; {@code rng} is not used (samples depend on (seed, index) only). */
    @Override
    public int read(int index, float[] dst, SplittableRandom rng) {
        if (index < 0 || index >= size)
            throw new IndexOutOfBoundsException("sample " + index + " outside 0.." + (size - 1));
        int n = resolution * resolution;
        if (dst.length < 3 * n)
            throw new IllegalArgumentException("dst holds " + dst.length + " floats, need " + 3 * n);
        Canvas cv = canvas.get();
        Drawn d = draw(index, cv);
        int[] px = cv.pixels;
        SplittableRandom r = d.rng;
        boolean noise = d.noiseSigma > 0, invert = d.inverted;
        double sigma = d.noiseSigma;
        for (int i = 0; i < n; i++) {
            int p = px[i];
            for (int c = 0; c < 3; c++) {
                float v = ((p >> (16 - 8 * c)) & 0xff) * (1f / 255f);
                if (noise) v += (float) (sigma * r.nextGaussian());
                if (v < 0f) v = 0f; else if (v > 1f) v = 1f;
                if (invert) v = 1f - v;
                dst[c * n + i] = 2f * v - 1f;
            }
        }
        return d.label;
    }

    /**
     * What sample {@code index} is made of (for tests of the generator): colours as drawn (0..1, before noise and
     * inversion), geometry in pixels, whether the image is inverted.
     */
    record Drawn(int label, float[] fg, float[] bg, float[] bg2, int bgKind, double radius, double cx, double cy,
            double noiseSigma, boolean inverted, SplittableRandom rng) {}

    /** Draws sample {@code index} on the canvas and draws its remaining random choices. */
    Drawn draw(int index, Canvas cv) {
        int label = label(index);
        SplittableRandom r = new SplittableRandom(Seeds.mix(seed, 0x5A4E5L, index));
        Drawn d = render(cv, label, r);
        boolean noise = r.nextDouble() < 0.4 && !plain;
        double sigma = noise ? 0.015 + 0.035 * r.nextDouble() : 0;
        boolean invert = r.nextBoolean();
        return new Drawn(label, d.fg, d.bg, d.bg2, d.bgKind, d.radius, d.cx, d.cy, sigma, invert, r);
    }

    /** {@link #draw(int, Canvas)} on this thread's canvas. */
    Drawn drawn(int index) {
        return draw(index, canvas.get());
    }

    private Drawn render(Canvas cv, int label, SplittableRandom r) {
        int res = resolution;
        Graphics2D g = cv.g;
        g.setTransform(new AffineTransform());
        // colours: background, a second background colour for gradients/stripes, the shape's fill
        float[] bg = randomColour(r);
        float[] fg;
        do {
            fg = randomColour(r);
        } while (!contrasts(fg, bg));
        int bgKind = plain ? r.nextInt(65) : r.nextInt(100); // plain: solid (0-29) or linear gradient (30-64) only
        float[] bg2 = bg;
        if (bgKind >= 30) {
            if (bgKind < 85) { // gradient: second colour far from bg but still contrasting with the shape
                int tries = 0;
                do {
                    bg2 = randomColour(r);
                } while (!contrasts(fg, bg2) && ++tries < 50);
                if (!contrasts(fg, bg2)) bg2 = bg;
            } else { // stripes: a slightly lighter or darker version of bg (zero-mean shift)
                float d = (float) ((r.nextBoolean() ? 1 : -1) * (0.06 + 0.08 * r.nextDouble()));
                bg2 = new float[] {clamp(bg[0] + d), clamp(bg[1] + d), clamp(bg[2] + d)};
            }
        }
        // background
        if (bgKind < 30) {
            g.setPaint(colour(bg));
            g.fillRect(0, 0, res, res);
        } else if (bgKind < 65) {
            double a = r.nextDouble() * 2 * Math.PI;
            double cx = res / 2.0, cy = res / 2.0, h = res / 2.0;
            g.setPaint(new GradientPaint((float) (cx - h * Math.cos(a)), (float) (cy - h * Math.sin(a)), colour(bg),
                    (float) (cx + h * Math.cos(a)), (float) (cy + h * Math.sin(a)), colour(bg2)));
            g.fillRect(0, 0, res, res);
        } else if (bgKind < 85) {
            float cx = (float) (res * r.nextDouble()), cy = (float) (res * r.nextDouble());
            float rad = (float) (res * (0.5 + 0.7 * r.nextDouble()));
            g.setPaint(new RadialGradientPaint(new Point2D.Float(cx, cy), rad, new float[] {0f, 1f},
                    new Color[] {colour(bg), colour(bg2)}, MultipleGradientPaint.CycleMethod.NO_CYCLE));
            g.fillRect(0, 0, res, res);
        } else {
            g.setPaint(colour(bg));
            g.fillRect(0, 0, res, res);
            double period = res * (0.1 + 0.15 * r.nextDouble());
            double a = r.nextDouble() * Math.PI;
            double phase = r.nextDouble() * period;
            AffineTransform t = new AffineTransform();
            t.translate(res / 2.0, res / 2.0);
            t.rotate(a);
            g.setTransform(t);
            g.setPaint(colour(bg2));
            for (double x = -res + phase; x < res; x += period)
                g.fill(new Rectangle2D.Double(x, -res, period / 2, 2 * res));
            g.setTransform(new AffineTransform());
        }
        // the shape
        double radius = res * (minDiameter + (maxDiameter - minDiameter) * r.nextDouble()) / 2; // circumscribed radius
        double margin = Math.max(0, res / 2.0 - 0.92 * radius);
        double cx = res / 2.0 + (2 * r.nextDouble() - 1) * margin;
        double cy = res / 2.0 + (2 * r.nextDouble() - 1) * margin;
        String shape = SHAPES.get(label);
        double angle = shape.equals("heart") ? (r.nextDouble() - 0.5) * 1.2 : r.nextDouble() * 2 * Math.PI;
        double stretch = 0.9 + 0.1 * r.nextDouble();
        boolean stretchX = r.nextBoolean();
        AffineTransform t = new AffineTransform();
        t.translate(cx, cy);
        t.rotate(angle);
        t.scale(radius * (stretchX ? stretch : 1), radius * (stretchX ? 1 : stretch));
        Shape s = t.createTransformedShape(UNIT[label]);
        if (r.nextDouble() < 0.25) { // gradient fill between two close colours
            float d = (float) ((r.nextBoolean() ? 1 : -1) * (0.1 + 0.1 * r.nextDouble()));
            float[] fg2 = {clamp(fg[0] + d), clamp(fg[1] + d), clamp(fg[2] + d)};
            Rectangle2D b = s.getBounds2D();
            g.setPaint(new GradientPaint((float) b.getMinX(), (float) b.getMinY(), colour(fg),
                    (float) b.getMaxX(), (float) b.getMaxY(), colour(fg2)));
        } else {
            g.setPaint(colour(fg));
        }
        g.fill(s);
        return new Drawn(label, fg, bg, bg2, bgKind, radius, cx, cy, 0, false, r);
    }

    /** A colour in HSV space with uniform hue; the same distribution for shapes and backgrounds. */
    private static float[] randomColour(SplittableRandom r) {
        float h = (float) r.nextDouble();
        float s = (float) r.nextDouble();
        float v = (float) (0.08 + 0.92 * r.nextDouble());
        int rgb = Color.HSBtoRGB(h, s, v);
        return new float[] {((rgb >> 16) & 0xff) / 255f, ((rgb >> 8) & 0xff) / 255f, (rgb & 0xff) / 255f};
    }

    /** Symmetric contrast test (so shape and background colours keep identical distributions). */
    private static boolean contrasts(float[] a, float[] b) {
        double dr = a[0] - b[0], dg = a[1] - b[1], db = a[2] - b[2];
        double dist = Math.sqrt(dr * dr + dg * dg + db * db);
        double dl = Math.abs(0.299 * dr + 0.587 * dg + 0.114 * db);
        return dist >= 0.45 && dl >= 0.12;
    }

    private static float clamp(float v) {
        return v < 0 ? 0 : v > 1 ? 1 : v;
    }

    private static Color colour(float[] c) {
        return new Color(c[0], c[1], c[2]);
    }

    private static Shape[] buildUnitShapes() {
        Shape[] s = new Shape[MAX_CLASSES];
        s[0] = new Ellipse2D.Double(-1, -1, 2, 2);
        s[1] = new Rectangle2D.Double(-1, -1, 2, 2);
        s[2] = regularPolygon(3, 1, -Math.PI / 2);
        s[3] = star(5, 1, 0.45);
        s[4] = polygon(new double[] {-0.27, -1, 0.27, -1, 0.27, -0.27, 1, -0.27, 1, 0.27, 0.27, 0.27, 0.27, 1,
                -0.27, 1, -0.27, 0.27, -1, 0.27, -1, -0.27, -0.27, -0.27});
        Area ring = new Area(new Ellipse2D.Double(-1, -1, 2, 2));
        ring.subtract(new Area(new Ellipse2D.Double(-0.58, -0.58, 1.16, 1.16)));
        s[5] = ring;
        s[6] = heart();
        s[7] = polygon(new double[] {-1, -0.2, 0.05, -0.2, 0.05, -0.6, 1, 0, 0.05, 0.6, 0.05, 0.2, -1, 0.2});
        s[8] = regularPolygon(6, 1, 0);
        Area crescent = new Area(new Ellipse2D.Double(-1, -1, 2, 2));
        crescent.subtract(new Area(new Ellipse2D.Double(-0.3, -0.8, 1.6, 1.6)));
        s[9] = crescent;
        for (int i = 0; i < s.length; i++) s[i] = normalise(s[i]);
        return s;
    }

    private static Shape polygon(double[] xy) {
        Path2D.Double p = new Path2D.Double();
        p.moveTo(xy[0], xy[1]);
        for (int i = 2; i < xy.length; i += 2) p.lineTo(xy[i], xy[i + 1]);
        p.closePath();
        return p;
    }

    private static Shape regularPolygon(int n, double r, double start) {
        double[] xy = new double[2 * n];
        for (int i = 0; i < n; i++) {
            double a = start + 2 * Math.PI * i / n;
            xy[2 * i] = r * Math.cos(a);
            xy[2 * i + 1] = r * Math.sin(a);
        }
        return polygon(xy);
    }

    private static Shape star(int points, double outer, double inner) {
        double[] xy = new double[4 * points];
        for (int i = 0; i < 2 * points; i++) {
            double a = -Math.PI / 2 + Math.PI * i / points;
            double r = i % 2 == 0 ? outer : inner;
            xy[2 * i] = r * Math.cos(a);
            xy[2 * i + 1] = r * Math.sin(a);
        }
        return polygon(xy);
    }

    private static Shape heart() {
        int n = 96;
        double[] xy = new double[2 * n];
        for (int i = 0; i < n; i++) {
            double t = 2 * Math.PI * i / n;
            double sn = Math.sin(t);
            xy[2 * i] = 16 * sn * sn * sn;
            xy[2 * i + 1] = -(13 * Math.cos(t) - 5 * Math.cos(2 * t) - 2 * Math.cos(3 * t) - Math.cos(4 * t));
        }
        return polygon(xy);
    }

    /** Centres a shape on its bounding box and scales it so its farthest (flattened) point is at distance 1. */
    private static Shape normalise(Shape s) {
        Rectangle2D b = s.getBounds2D();
        AffineTransform centre = AffineTransform.getTranslateInstance(-b.getCenterX(), -b.getCenterY());
        Shape c = centre.createTransformedShape(s);
        double max = 0;
        double[] co = new double[6];
        for (PathIterator it = c.getPathIterator(null, 1e-4); !it.isDone(); it.next()) {
            int type = it.currentSegment(co);
            if (type != PathIterator.SEG_CLOSE) max = Math.max(max, Math.hypot(co[0], co[1]));
        }
        Shape out = AffineTransform.getScaleInstance(1 / max, 1 / max).createTransformedShape(c);
        return new Path2D.Double(out);
    }

    /** A per-thread drawing surface. */
    static final class Canvas {
        final BufferedImage image;
        final Graphics2D g;
        final int[] pixels;

        Canvas(int res) {
            image = new BufferedImage(res, res, BufferedImage.TYPE_INT_RGB);
            g = image.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
            g.setRenderingHint(RenderingHints.KEY_COLOR_RENDERING, RenderingHints.VALUE_COLOR_RENDER_QUALITY);
            g.setRenderingHint(RenderingHints.KEY_DITHERING, RenderingHints.VALUE_DITHER_DISABLE);
            g.setStroke(new BasicStroke(1f));
            pixels = ((DataBufferInt) image.getRaster().getDataBuffer()).getData();
        }
    }
}
