package io.udit.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reader of IDX files of unsigned bytes (the MNIST / Fashion-MNIST format), raw or gzipped. Everything is checked
 * before memory is allocated for the data: magic number, element type, number of dimensions, that the dimensions
 * are positive and their product fits, and that the file (or, for gzip, what the compressed size can hold) is large
 * enough; then that the data is complete and nothing follows it.
 */
final class Idx {
    /** Deflate cannot compress better than about 1032:1. */
    private static final long MAX_DEFLATE_RATIO = 1100;
    private static final long MAX_BYTES = Integer.MAX_VALUE - 64;

    final int[] dims;
    final byte[] data;

    private Idx(int[] dims, byte[] data) {
        this.dims = dims;
        this.data = data;
    }

    /** Reads an IDX file of unsigned bytes with {@code ndims} dimensions; gzip if the name ends with .gz. */
    static Idx read(Path file, int ndims) {
        long fileSize;
        if (!Files.isRegularFile(file) && Files.exists(file)) {
            throw new DataException(file + " is " + io.udit.engine.FileKinds.describe(file) + ", not a regular file");
        }
        try {
            fileSize = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new DataException(file + ": no such file");
        } catch (IOException e) {
            throw new DataException(file + ": cannot read: " + e.getMessage(), e);
        }
        boolean gz = file.getFileName().toString().endsWith(".gz");
        try (InputStream raw = Files.newInputStream(file)) {
            InputStream in = new BufferedInputStream(raw, 1 << 16);
            if (gz) {
                in.mark(2);
                int b0 = in.read(), b1 = in.read();
                in.reset();
                if (b0 != 0x1f || b1 != 0x8b)
                    throw new DataException(file + ": not gzip data (the name ends with .gz but the file starts with "
                            + hex2(b0, b1) + ", not 1f 8b)");
                in = new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
            }
            byte[] head = new byte[4];
            int got = in.readNBytes(head, 0, 4);
            if (got < 4) throw new DataException(file + ": truncated: " + got + " bytes, an IDX header needs at least "
                    + (4 + 4 * ndims));
            if (head[0] != 0 || head[1] != 0) {
                String hint = (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b
                        ? " (this is gzip data: give the file a .gz name)" : "";
                throw new DataException(file + ": not an IDX file: magic number starts with "
                        + hex2(head[0] & 0xff, head[1] & 0xff) + ", expected 00 00" + hint);
            }
            if (head[2] != 0x08)
                throw new DataException(file + ": IDX element type 0x" + String.format("%02x", head[2] & 0xff)
                        + " is not unsigned byte (0x08)");
            if (head[3] != ndims)
                throw new DataException(file + ": IDX file has " + (head[3] & 0xff) + " dimensions, expected " + ndims
                        + " (magic 0x0000080" + ndims + ")");
            int[] dims = new int[ndims];
            byte[] d = new byte[4 * ndims];
            got = in.readNBytes(d, 0, d.length);
            if (got < d.length)
                throw new DataException(file + ": truncated IDX header: " + (4 + got) + " of " + (4 + d.length) + " bytes");
            long n = 1;
            for (int i = 0; i < ndims; i++) {
                dims[i] = ((d[4 * i] & 0xff) << 24) | ((d[4 * i + 1] & 0xff) << 16) | ((d[4 * i + 2] & 0xff) << 8)
                        | (d[4 * i + 3] & 0xff);
                if (dims[i] <= 0)
                    throw new DataException(file + ": corrupt IDX header: dimension " + i + " is "
                            + Integer.toUnsignedString(dims[i]));
                n *= dims[i];
                if (n > MAX_BYTES)
                    throw new DataException(file + ": corrupt IDX header: dimensions " + dimString(dims, i + 1)
                            + " promise more than " + MAX_BYTES + " bytes");
            }
            long header = 4 + 4L * ndims;
            if (!gz) {
                if (fileSize < header + n)
                    throw new DataException(file + ": truncated: header promises " + dimString(dims, ndims) + " = " + n
                            + " bytes of data, the file holds " + (fileSize - header));
                if (fileSize > header + n)
                    throw new DataException(file + ": " + (fileSize - header - n) + " unexpected bytes after the "
                            + dimString(dims, ndims) + " data (corrupt header or wrong file?)");
            } else if (n > MAX_DEFLATE_RATIO * fileSize + (1 << 20)) {
                throw new DataException(file + ": corrupt IDX header or truncated file: header promises "
                        + dimString(dims, ndims) + " = " + n + " bytes, more than " + fileSize
                        + " compressed bytes can hold");
            }
            byte[] data = new byte[(int) n];
            got = in.readNBytes(data, 0, data.length);
            if (got < n)
                throw new DataException(file + ": truncated: header promises " + dimString(dims, ndims) + " = " + n
                        + " bytes of data, the file holds " + got);
            if (gz && in.read() >= 0)
                throw new DataException(file + ": unexpected bytes after the " + dimString(dims, ndims)
                        + " data (corrupt header or wrong file?)");
            return new Idx(dims, data);
        } catch (EOFException e) {
            throw new DataException(file + ": truncated gzip stream (" + e.getMessage() + ")", e);
        } catch (ZipException e) {
            throw new DataException(file + ": corrupt gzip data (" + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new DataException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static String hex2(int a, int b) {
        return (a < 0 ? "EOF" : String.format("%02x", a)) + " " + (b < 0 ? "EOF" : String.format("%02x", b));
    }

    static String dimString(int[] dims, int k) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < k; i++) sb.append(i == 0 ? "" : "x").append(Integer.toUnsignedString(dims[i]));
        return sb.toString();
    }
}
