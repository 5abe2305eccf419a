package io.udit.report.tensorboard;

import io.udit.report.tensorboard.proto.Event;
import io.udit.report.tensorboard.proto.Summary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reads the writer's event files with a reader of its own: TFRecord framing and both masked CRC-32C checks are
 * implemented here from the format's description, one scalar record is decoded from the protobuf wire format by
 * hand, and the rest through the generated {@link Event} class.
 */
class TensorBoardWriterTest {
    @TempDir Path dir;

    @Test
    void crc32cAndMaskMatchTheFormat() {
        byte[] check = "123456789".getBytes(StandardCharsets.US_ASCII);
        CRC32C c = new CRC32C();
        c.update(check);
        assertEquals(0xE3069283L, c.getValue(), "CRC-32C check value");
        assertEquals(mask(0xE3069283), TfRecord.maskedCrc32c(check, 0, check.length));
    }

    @Test
    void scalarsAndImagesRoundTripThroughAnIndependentReader() throws Exception {
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3};
        try (TensorBoardWriter w = TensorBoardWriter.open(dir)) {
            assertTrue(w.isOn());
            w.scalar("train/loss", 10, 0.5);
            Map<String, Double> line = new LinkedHashMap<>();
            line.put("train/lr", 1e-4);
            line.put("train/grad_norm", 2.25);
            line.put("train/vb", null); // a non-finite value the log writes as null: left out
            w.scalars(15, java.util.Collections.singletonMap("train/mse", null)); // nothing to write: no event
            w.scalars(20, line);
            w.image("samples/preview", 20, png, 64, 32);
            w.flush();
        }
        List<Path> files = eventFiles();
        assertEquals(1, files.size());
        assertTrue(files.get(0).getFileName().toString().startsWith("events.out.tfevents."));
        List<byte[]> records = readRecords(Files.readAllBytes(files.get(0)));
        assertEquals(4, records.size());

        Event first = Event.parseFrom(records.get(0));
        assertEquals("brain.Event:2", first.getFileVersion());
        assertTrue(first.getWallTime() > 1.6e9);

        HandDecoded loss = handDecodeScalar(records.get(1));
        assertEquals(10, loss.step);
        assertEquals("train/loss", loss.tag);
        assertEquals(0.5f, loss.value);
        assertTrue(loss.wallTime >= first.getWallTime());

        Event lrAndNorm = Event.parseFrom(records.get(2));
        assertEquals(20, lrAndNorm.getStep());
        List<Summary.Value> values = lrAndNorm.getSummary().getValueList();
        assertEquals("train/lr", values.get(0).getTag());
        assertEquals(1e-4f, values.get(0).getSimpleValue());
        assertEquals("train/grad_norm", values.get(1).getTag());
        assertEquals(2.25f, values.get(1).getSimpleValue());
        assertEquals(2, values.size());

        Event image = Event.parseFrom(records.get(3));
        Summary.Value v = image.getSummary().getValue(0);
        assertEquals("samples/preview", v.getTag());
        assertEquals(64, v.getImage().getWidth());
        assertEquals(32, v.getImage().getHeight());
        assertEquals(3, v.getImage().getColorspace());
        assertArrayEquals(png, v.getImage().getEncodedImageString().toByteArray());
    }

    @Test
    void eachOpenStartsANewFileSoResumedRunsKeepTheOldOne() throws Exception {
        try (TensorBoardWriter a = TensorBoardWriter.open(dir)) {
            a.scalar("x", 1, 1);
        }
        try (TensorBoardWriter b = TensorBoardWriter.open(dir)) {
            b.scalar("x", 2, 2);
        }
        List<Path> files = eventFiles();
        assertEquals(2, files.size());
        for (Path f : files) assertEquals(2, readRecords(Files.readAllBytes(f)).size());
    }

    @Test
    void anUnwritableFolderTurnsTheWriterOffWithoutThrowing() throws Exception {
        Path notADir = dir.resolve("file");
        Files.writeString(notADir, "x");
        TensorBoardWriter w = TensorBoardWriter.open(notADir);
        assertFalse(w.isOn());
        assertNull(w.file());
        w.scalar("x", 1, 1);
        w.image("y", 1, new byte[1], 1, 1);
        w.flush();
        w.close();
    }

    @Test
    void writesFromManyThreadsStayWholeRecords() throws Exception {
        int threads = 4, each = 200;
        try (TensorBoardWriter w = TensorBoardWriter.open(dir)) {
            List<Thread> ts = new ArrayList<>();
            for (int k = 0; k < threads; k++) {
                int id = k;
                Thread t = new Thread(() -> {
                    for (int i = 0; i < each; i++) w.scalar("t" + id, i, i);
                });
                t.start();
                ts.add(t);
            }
            for (Thread t : ts) t.join();
        }
        List<byte[]> records = readRecords(Files.readAllBytes(eventFiles().get(0)));
        assertEquals(1 + threads * each, records.size());
        for (byte[] r : records.subList(1, records.size())) assertEquals(1, Event.parseFrom(r).getSummary().getValueCount());
    }

    private List<Path> eventFiles() throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().contains("tfevents")).sorted().toList();
        }
    }

    /** TFRecord reader: length, masked CRC of the length, data, masked CRC of the data; both CRCs are checked. */
    static List<byte[]> readRecords(byte[] file) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        List<byte[]> out = new ArrayList<>();
        while (b.hasRemaining()) {
            byte[] lenBytes = new byte[8];
            b.get(lenBytes);
            long len = ByteBuffer.wrap(lenBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(maskedCrc(lenBytes), b.getInt(), "length CRC of record " + out.size());
            byte[] data = new byte[(int) len];
            b.get(data);
            assertEquals(maskedCrc(data), b.getInt(), "data CRC of record " + out.size());
            out.add(data);
        }
        return out;
    }

    private static int maskedCrc(byte[] data) {
        CRC32C c = new CRC32C();
        c.update(data);
        return mask((int) c.getValue());
    }

    private static int mask(int crc) {
        return Integer.rotateRight(crc, 15) + 0xa282ead8;
    }

    private record HandDecoded(double wallTime, long step, String tag, float value) {}

    /** Event{1: double wall_time, 2: int64 step, 5: Summary{1: Value{1: string tag, 2: float simple_value}}}, by hand. */
    private static HandDecoded handDecodeScalar(byte[] event) {
        Wire w = new Wire(event);
        double wall = 0;
        long step = 0;
        byte[] summary = null;
        while (w.more()) {
            long key = w.varint();
            switch ((int) key) {
                case (1 << 3) | 1 -> wall = Double.longBitsToDouble(w.fixed64());
                case (2 << 3) -> step = w.varint();
                case (5 << 3) | 2 -> summary = w.bytes();
                default -> throw new AssertionError("unexpected Event key " + key);
            }
        }
        Wire s = new Wire(summary);
        assertEquals((1 << 3) | 2, s.varint(), "Summary.value");
        Wire v = new Wire(s.bytes());
        assertFalse(s.more(), "one value");
        String tag = null;
        float value = Float.NaN;
        while (v.more()) {
            long key = v.varint();
            switch ((int) key) {
                case (1 << 3) | 2 -> tag = new String(v.bytes(), StandardCharsets.UTF_8);
                case (2 << 3) | 5 -> value = Float.intBitsToFloat(v.fixed32());
                default -> throw new AssertionError("unexpected Value key " + key);
            }
        }
        return new HandDecoded(wall, step, tag, value);
    }

    /** The protobuf wire format's primitives: varints, little-endian fixed32/fixed64, length-delimited bytes. */
    private static final class Wire {
        private final ByteBuffer b;

        Wire(byte[] bytes) {
            b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        }

        boolean more() {
            return b.hasRemaining();
        }

        long varint() {
            long v = 0;
            for (int shift = 0; ; shift += 7) {
                int x = b.get() & 0xff;
                v |= (long) (x & 0x7f) << shift;
                if (x < 0x80) return v;
            }
        }

        int fixed32() {
            return b.getInt();
        }

        long fixed64() {
            return b.getLong();
        }

        byte[] bytes() {
            byte[] out = new byte[(int) varint()];
            b.get(out);
            return out;
        }
    }
}
