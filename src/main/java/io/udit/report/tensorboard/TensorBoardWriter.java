package io.udit.report.tensorboard;

import com.google.protobuf.ByteString;
import io.udit.report.tensorboard.proto.Event;
import io.udit.report.tensorboard.proto.SourceMetadata;
import io.udit.report.tensorboard.proto.Summary;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * Writes a TensorBoard event file ({@code events.out.tfevents.<secs>.<host>}) into a run folder: scalars and PNG
 * images, readable by {@code tensorboard --logdir}. Each process start opens a new file, as TensorFlow does, so a
 * resumed run appends a file instead of rewriting one. Writing never throws: the first I/O error is reported once
 * on stderr and the writer turns itself off, so training goes on without it. All methods are thread-safe.
 */
public final class TensorBoardWriter implements AutoCloseable {
    /** The version string of the first record, the one every TensorBoard reader expects. */
    public static final String FILE_VERSION = "brain.Event:2";
    private static final long AUTO_FLUSH_NANOS = 5_000_000_000L;

    private final Path file;
    private OutputStream out;
    private long lastFlush = System.nanoTime();

    private TensorBoardWriter(Path file, OutputStream out) {
        this.file = file;
        this.out = out;
    }

    /** Opens a new event file in {@code runDir} (created if missing); on failure returns a writer that is off. */
    public static TensorBoardWriter open(Path runDir) {
        Path file = null;
        try {
            Files.createDirectories(runDir);
            String base = "events.out.tfevents." + System.currentTimeMillis() / 1000 + "." + host();
            OutputStream os = null;
            for (int n = 0; os == null; n++) {
                file = runDir.resolve(n == 0 ? base : base + "." + n);
                try {
                    os = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                } catch (FileAlreadyExistsException e) {
                    if (n >= 100) throw e;
                }
            }
            TensorBoardWriter w = new TensorBoardWriter(file, new BufferedOutputStream(os, 1 << 16));
            w.write(Event.newBuilder().setWallTime(now()).setFileVersion(FILE_VERSION)
                    .setSourceMetadata(SourceMetadata.newBuilder().setWriter("udit")).build());
            w.flush();
            return w;
        } catch (IOException | RuntimeException e) {
            report(file != null ? file : runDir, e);
            return new TensorBoardWriter(file, null);
        }
    }

    /** The event file, or null when it could not be created. */
    public Path file() {
        return file;
    }

    /** True until an I/O error or {@link #close()} turns the writer off. */
    public synchronized boolean isOn() {
        return out != null;
    }

    /** One scalar, e.g. {@code scalar("train/loss", 500, 0.12)}. */
    public void scalar(String tag, long step, double value) {
        write(step, Summary.newBuilder().addValue(scalarValue(tag, value)).build());
    }

    /** Several scalars of one step in one event, in the map's order; null values (not logged) are left out. */
    public void scalars(long step, Map<String, ? extends Number> values) {
        Summary.Builder s = Summary.newBuilder();
        values.forEach((tag, v) -> {
            if (tag != null && v != null) s.addValue(scalarValue(tag, v.doubleValue()));
        });
        if (s.getValueCount() == 0) return;
        write(step, s.build());
    }

    /** One PNG image of {@code width} x {@code height} RGB pixels, e.g. a preview grid. Flushes. */
    public void image(String tag, long step, byte[] png, int width, int height) {
        Summary.Image img = Summary.Image.newBuilder().setHeight(height).setWidth(width).setColorspace(3)
                .setEncodedImageString(ByteString.copyFrom(png)).build();
        write(step, Summary.newBuilder().addValue(Summary.Value.newBuilder().setTag(tag).setImage(img)).build());
        flush();
    }

    /** One PNG image, its size read from the PNG header; bytes that are not a PNG are reported on stderr and skipped. */
    public void image(String tag, long step, byte[] png) {
        if (png.length < 24 || png[12] != 'I' || png[13] != 'H' || png[14] != 'D' || png[15] != 'R') {
            System.err.println("warning: TensorBoard image " + tag + " at step " + step + " is not a PNG; skipped");
            return;
        }
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(png); // IHDR: big-endian width at 16, height at 20
        image(tag, step, png, b.getInt(16), b.getInt(20));
    }

    /** Pushes buffered records to the file, so a running TensorBoard sees them. */
    public synchronized void flush() {
        if (out == null) return;
        try {
            out.flush();
            lastFlush = System.nanoTime();
        } catch (IOException e) {
            fail(e);
        }
    }

    /** Flushes and closes the file; later writes are ignored. */
    @Override
    public synchronized void close() {
        if (out == null) return;
        try {
            out.close();
        } catch (IOException e) {
            report(file, e);
        }
        out = null;
    }

    private static Summary.Value.Builder scalarValue(String tag, double value) {
        return Summary.Value.newBuilder().setTag(tag).setSimpleValue((float) value);
    }

    private void write(long step, Summary summary) {
        write(Event.newBuilder().setWallTime(now()).setStep(step).setSummary(summary).build());
    }

    private synchronized void write(Event e) {
        if (out == null) return;
        try {
            out.write(TfRecord.frame(e.toByteArray()));
            if (System.nanoTime() - lastFlush > AUTO_FLUSH_NANOS) flush();
        } catch (IOException ex) {
            fail(ex);
        }
    }

    private void fail(IOException e) {
        report(file, e);
        try {
            out.close();
        } catch (IOException ignored) {
            // the file is already broken; the error above is the one that counts
        }
        out = null;
    }

    private static void report(Path where, Exception e) {
        System.err.println("warning: TensorBoard events off (" + where + "): " + e);
    }

    private static double now() {
        return System.currentTimeMillis() / 1000.0;
    }

    private static String host() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) return env.replaceAll("[^A-Za-z0-9._-]", "_");
        try {
            return InetAddress.getLocalHost().getHostName().replaceAll("[^A-Za-z0-9._-]", "_");
        } catch (IOException | RuntimeException e) {
            return "localhost";
        }
    }
}
