package io.udit.io;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/** A zip archive opened for reading, with every entry name and declared size checked up front. */
final class ZipArchive implements Closeable {
    /** Deflate cannot compress better than about 1032:1; a larger declared ratio is a lie (zip bomb). */
    static final long MAX_DEFLATE_RATIO = 1032;

    final Path file;
    final long fileSize;
    private final ZipFile zip;
    private final LinkedHashMap<String, ZipEntry> entries = new LinkedHashMap<>();

    private ZipArchive(Path file, long fileSize, ZipFile zip) {
        this.file = file;
        this.fileSize = fileSize;
        this.zip = zip;
    }

    static ZipArchive open(Path file) throws IOException {
        long size = Files.size(file);
        ZipFile zf;
        try {
            zf = new ZipFile(file.toFile());
        } catch (ZipException | EOFException e) {
            // EOFException (no message): a record, e.g. the end of central directory, points past the end of the file
            throw CheckpointFormatException.of(file, "not a readable zip archive (truncated or corrupt?): " + describe(e), e);
        }
        ZipArchive a = new ZipArchive(file, size, zf);
        try {
            a.index();
        } catch (IOException | RuntimeException e) {
            a.close();
            if (e instanceof IOException io) throw io;
            throw CheckpointFormatException.of(file, "corrupt zip archive: " + e.getMessage(), e);
        }
        return a;
    }

    private void index() throws IOException {
        Enumeration<? extends ZipEntry> en = zip.entries();
        while (en.hasMoreElements()) {
            ZipEntry e = en.nextElement();
            String name = e.getName();
            checkName(name);
            if (entries.put(name, e) != null) {
                throw CheckpointFormatException.of(file, "duplicate zip entry '" + NativeIO.printable(name) + "'");
            }
            if (e.isDirectory()) continue;
            long size = e.getSize();
            long csize = e.getCompressedSize();
            if (size < 0 || csize < 0) {
                throw CheckpointFormatException.of(file, "zip entry '" + NativeIO.printable(name) + "' has no declared size");
            }
            if (csize > fileSize) {
                throw CheckpointFormatException.of(file, "zip entry '" + NativeIO.printable(name) + "' declares " + csize
                        + " compressed bytes but the file has only " + fileSize + " (truncated?)");
            }
            int method = e.getMethod();
            if (method == ZipEntry.STORED) {
                if (size != csize) {
                    throw CheckpointFormatException.of(file, "stored zip entry '" + NativeIO.printable(name)
                            + "' declares size " + size + " but compressed size " + csize);
                }
            } else if (method == ZipEntry.DEFLATED) {
                if (size > Math.max(1L << 16, csize * MAX_DEFLATE_RATIO)) {
                    throw CheckpointFormatException.of(file, "zip entry '" + NativeIO.printable(name) + "' claims to inflate "
                            + csize + " bytes to " + size + " (more than deflate can achieve: zip bomb?)");
                }
            } else {
                throw CheckpointFormatException.of(file, "zip entry '" + NativeIO.printable(name)
                        + "' uses unsupported compression method " + method);
            }
        }
    }

    /** Rejects names that would escape a directory if extracted: absolute, '..' segments, backslashes, NUL, drives. */
    private void checkName(String name) throws CheckpointFormatException {
        boolean bad = name.isEmpty() || name.startsWith("/") || name.indexOf('\\') >= 0 || name.indexOf('\0') >= 0
                || (name.length() > 1 && name.charAt(1) == ':');
        if (!bad) {
            for (String seg : name.split("/", -1)) {
                if (seg.equals("..")) {
                    bad = true;
                    break;
                }
            }
        }
        if (bad) {
            throw CheckpointFormatException.of(file, "refusing zip entry name '" + NativeIO.printable(name)
                    + "' (absolute path or path traversal)");
        }
    }

    List<String> names() {
        return Collections.unmodifiableList(new ArrayList<>(entries.keySet()));
    }

    Map<String, ZipEntry> entries() {
        return Collections.unmodifiableMap(entries);
    }

    ZipEntry entry(String name) {
        return entries.get(name);
    }

    InputStream open(ZipEntry e) throws IOException {
        try {
            return zip.getInputStream(e);
        } catch (ZipException | EOFException ex) {
            throw CheckpointFormatException.of(file, "cannot read zip entry '" + NativeIO.printable(e.getName()) + "': "
                    + describe(ex), ex);
        }
    }

    /** The whole entry, which must be at most {@code limit} bytes and exactly its declared size. */
    byte[] readAll(ZipEntry e, long limit) throws IOException {
        long size = e.getSize();
        if (size > limit) {
            throw CheckpointFormatException.of(file, "zip entry '" + NativeIO.printable(e.getName()) + "' is " + size
                    + " bytes, more than the limit of " + limit);
        }
        try (InputStream in = open(e)) {
            byte[] b = in.readNBytes((int) size);
            if (b.length != size) {
                throw CheckpointFormatException.of(file, "zip entry '" + NativeIO.printable(e.getName()) + "' is truncated: "
                        + b.length + " of " + size + " bytes");
            }
            if (in.read() != -1) {
                throw CheckpointFormatException.of(file, "zip entry '" + NativeIO.printable(e.getName())
                        + "' holds more data than declared");
            }
            return b;
        } catch (ZipException | EOFException ex) {
            throw CheckpointFormatException.of(file, "corrupt zip entry '" + NativeIO.printable(e.getName()) + "': "
                    + describe(ex), ex);
        }
    }

    /** The message of a java.util.zip failure, or what an EOFException without one means. */
    static String describe(IOException e) {
        if (e instanceof EOFException && (e.getMessage() == null || e.getMessage().isEmpty())) {
            return "a zip record points past the end of the file (truncated?)";
        }
        return e.getMessage();
    }

    @Override
    public void close() throws IOException {
        zip.close();
    }
}
