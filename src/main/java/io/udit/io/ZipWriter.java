package io.udit.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * Writes a zip of STORED entries whose data can be 64-byte aligned (padding in the local header's extra field, as
 * torch's PyTorchStreamWriter does), with zip64 records where sizes or offsets need them. The size of each entry is
 * declared up front; the CRC is computed while writing and patched into the local header afterwards.
 */
final class ZipWriter {
    private static final long MAX32 = 0xFFFFFFFFL;
    private static final int DOS_DATE = (1 << 5) | 1; // 1980-01-01
    private static final int DOS_TIME = 0;

    private record Entry(String name, byte[] nameBytes, long offset, long size, long crc, boolean zip64) {}

    private final FileChannel ch;
    private final List<Entry> entries = new ArrayList<>();
    private final boolean forceZip64;
    private long pos;

    // current entry
    private String curName;
    private byte[] curNameBytes;
    private long curOffset;
    private long curSize;
    private long curWritten;
    private boolean curZip64;
    private CRC32 curCrc;

    ZipWriter(FileChannel ch) throws IOException {
        this(ch, false);
    }

    /** {@code forceZip64} writes zip64 records even for small files (for tests of that code path). */
    ZipWriter(FileChannel ch, boolean forceZip64) throws IOException {
        this.ch = ch;
        this.forceZip64 = forceZip64;
        this.pos = ch.position();
    }

    void add(String name, byte[] data, boolean align) throws IOException {
        begin(name, data.length, align);
        write(ByteBuffer.wrap(data));
        end();
    }

    /** Starts a STORED entry of exactly {@code size} bytes. */
    void begin(String name, long size, boolean align) throws IOException {
        if (curName != null) throw new IllegalStateException("entry " + curName + " not finished");
        curName = name;
        curNameBytes = name.getBytes(StandardCharsets.UTF_8);
        if (curNameBytes.length > 0xFFFF) throw new IllegalArgumentException("zip entry name too long");
        curOffset = pos;
        curSize = size;
        curWritten = 0;
        curCrc = new CRC32();
        curZip64 = forceZip64 || size >= MAX32 || pos >= MAX32;
        int zip64Extra = curZip64 ? 20 : 0;
        int pad = 0;
        if (align) {
            long dataStart = pos + 30 + curNameBytes.length + zip64Extra + 4;
            pad = (int) ((64 - dataStart % 64) % 64);
        }
        int extraLen = zip64Extra + (align ? 4 + pad : 0);
        ByteBuffer h = le(30 + curNameBytes.length + extraLen);
        h.putInt(0x04034b50);
        h.putShort((short) (curZip64 ? 45 : 20));
        h.putShort((short) (isAscii(curNameBytes) ? 0 : 0x0800));
        h.putShort((short) 0); // stored
        h.putShort((short) DOS_TIME);
        h.putShort((short) DOS_DATE);
        h.putInt(0); // crc, patched in end()
        h.putInt((int) (curZip64 ? MAX32 : size));
        h.putInt((int) (curZip64 ? MAX32 : size));
        h.putShort((short) curNameBytes.length);
        h.putShort((short) extraLen);
        h.put(curNameBytes);
        if (curZip64) {
            h.putShort((short) 1);
            h.putShort((short) 16);
            h.putLong(size);
            h.putLong(size);
        }
        if (align) {
            h.putShort((short) 0x4246); // "FB", as torch writes
            h.putShort((short) pad);
            for (int k = 0; k < pad; k++) h.put((byte) 'Z');
        }
        h.flip();
        put(h);
    }

    /** Writes part of the current entry's data. */
    void write(ByteBuffer data) throws IOException {
        int n = data.remaining();
        if (curWritten + n > curSize) throw new IllegalStateException("entry " + curName + " longer than declared " + curSize);
        ByteBuffer dup = data.duplicate();
        curCrc.update(dup);
        put(data);
        curWritten += n;
    }

    /** Writes a whole contiguous CPU tensor as (part of) the current entry's data. */
    void write(org.bytedeco.pytorch.Tensor t) throws IOException {
        long n = t.nbytes();
        if (curWritten + n > curSize) throw new IllegalStateException("entry " + curName + " longer than declared " + curSize);
        NativeIO.write(ch, t, curCrc);
        pos += n;
        curWritten += n;
    }

    void end() throws IOException {
        if (curWritten != curSize) {
            throw new IllegalStateException("entry " + curName + ": wrote " + curWritten + " bytes, declared " + curSize);
        }
        long crc = curCrc.getValue();
        ByteBuffer c = le(4);
        c.putInt((int) crc).flip();
        while (c.hasRemaining()) ch.write(c, curOffset + 14 + c.position());
        entries.add(new Entry(curName, curNameBytes, curOffset, curSize, crc, curZip64));
        curName = null;
    }

    /** Writes the central directory and end records. */
    void finish() throws IOException {
        if (curName != null) throw new IllegalStateException("entry " + curName + " not finished");
        long cdStart = pos;
        for (Entry e : entries) {
            boolean z = e.zip64 || e.offset >= MAX32;
            int extraLen = z ? 28 : 0;
            ByteBuffer h = le(46 + e.nameBytes.length + extraLen);
            h.putInt(0x02014b50);
            h.putShort((short) (z ? 0x032D : 0x0314)); // made by: unix, spec 4.5 / 2.0
            h.putShort((short) (z ? 45 : 20));
            h.putShort((short) (isAscii(e.nameBytes) ? 0 : 0x0800));
            h.putShort((short) 0);
            h.putShort((short) DOS_TIME);
            h.putShort((short) DOS_DATE);
            h.putInt((int) e.crc);
            h.putInt((int) (z ? MAX32 : e.size));
            h.putInt((int) (z ? MAX32 : e.size));
            h.putShort((short) e.nameBytes.length);
            h.putShort((short) extraLen);
            h.putShort((short) 0); // comment
            h.putShort((short) 0); // disk
            h.putShort((short) 0); // internal attributes
            h.putInt(0100644 << 16); // external attributes: regular file rw-r--r--
            h.putInt((int) (z ? MAX32 : e.offset));
            h.put(e.nameBytes);
            if (z) {
                h.putShort((short) 1);
                h.putShort((short) 24);
                h.putLong(e.size);
                h.putLong(e.size);
                h.putLong(e.offset);
            }
            h.flip();
            put(h);
        }
        long cdSize = pos - cdStart;
        boolean z = forceZip64 || entries.size() >= 0xFFFF || cdStart >= MAX32 || cdSize >= MAX32;
        if (z) {
            long z64 = pos;
            ByteBuffer r = le(56 + 20);
            r.putInt(0x06064b50);
            r.putLong(44);
            r.putShort((short) 45);
            r.putShort((short) 45);
            r.putInt(0);
            r.putInt(0);
            r.putLong(entries.size());
            r.putLong(entries.size());
            r.putLong(cdSize);
            r.putLong(cdStart);
            r.putInt(0x07064b50);
            r.putInt(0);
            r.putLong(z64);
            r.putInt(1);
            r.flip();
            put(r);
        }
        ByteBuffer end = le(22);
        end.putInt(0x06054b50);
        end.putShort((short) 0);
        end.putShort((short) 0);
        int count = z ? 0xFFFF : entries.size();
        end.putShort((short) count);
        end.putShort((short) count);
        end.putInt((int) (z ? MAX32 : cdSize));
        end.putInt((int) (z ? MAX32 : cdStart));
        end.putShort((short) 0);
        end.flip();
        put(end);
    }

    private void put(ByteBuffer b) throws IOException {
        int n = b.remaining();
        AtomicFiles.writeFully(ch, b);
        pos += n;
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static boolean isAscii(byte[] b) {
        for (byte x : b) if (x < 0) return false;
        return true;
    }
}
