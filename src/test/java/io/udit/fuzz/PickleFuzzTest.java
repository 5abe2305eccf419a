package io.udit.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.udit.engine.Engine;
import io.udit.io.TorchCheckpoint;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * {@link TorchCheckpoint#read}: {@link #pickle} fuzzes the whitelist unpickler (the input is {@code data.pkl}, wrapped
 * in a well-formed archive whose storages {@code 0..7} exist), {@link #checkpoint} the whole file (zip structure,
 * {@code ZipArchive} checks, byteorder/version entries, storages). Clean failures: IOException (CheckpointFormatException).
 */
class PickleFuzzTest {
    /** The shared fixture checkpoint (../shared relative to the project, like every parity test). */
    static final Path FIXTURE = Path.of("..", "shared", "fixtures", "udit-tiny", "tiny_udit.pt").toAbsolutePath().normalize();
    static final int STORAGES = 8;
    static final int STORAGE_BYTES = 4096;

    @BeforeAll
    static void init() {
        Engine.init();
    }

    @MethodSource("fixturePickle")
    @Timeout(FuzzSupport.TIMEOUT_SECONDS)
    @FuzzTest(maxDuration = "10m")
    void pickle(byte[] pkl) {
        Path f = FuzzSupport.write("p.pt", torchZip(pkl));
        try (PointerScope s = new PointerScope()) {
            FuzzSupport.expect(() -> TorchCheckpoint.read(f), IOException.class);
        }
    }

    @MethodSource("fixtureFile")
    @Timeout(FuzzSupport.TIMEOUT_SECONDS)
    @FuzzTest(maxDuration = "10m")
    void checkpoint(byte[] file) {
        Path f = FuzzSupport.write("c.pt", file);
        try (PointerScope s = new PointerScope()) {
            FuzzSupport.expect(() -> TorchCheckpoint.readStateDict(f, null), IOException.class);
        }
    }

    /** The shared fixture's data.pkl as an extra seed (read at test time, not kept in the project). */
    static Stream<Arguments> fixturePickle() throws IOException {
        Path p = FIXTURE;
        if (!Files.isRegularFile(p)) return Stream.empty();
        try (ZipFile z = new ZipFile(p.toFile())) {
            List<Arguments> out = new ArrayList<>();
            for (ZipEntry e : java.util.Collections.list(z.entries())) {
                if (e.getName().endsWith("/data.pkl")) {
                    try (InputStream in = z.getInputStream(e)) {
                        out.add(Arguments.of((Object) in.readAllBytes()));
                    }
                }
            }
            return out.stream();
        }
    }

    /** The whole fixture (8 MB: replayed as a regression input, too large to be a fuzzing seed). */
    static Stream<Arguments> fixtureFile() throws IOException {
        Path p = FIXTURE;
        if (FuzzSupport.fuzzing() || !Files.isRegularFile(p)) return Stream.empty();
        return Stream.of(Arguments.of((Object) Files.readAllBytes(p)));
    }

    /** {@code archive/data.pkl} = pkl, byteorder little, storages 0..7 of 4096 bytes (0/1 bytes: valid as bool too). */
    static byte[] torchZip(byte[] pkl) {
        ByteArrayOutputStream bo = new ByteArrayOutputStream(pkl.length + STORAGES * STORAGE_BYTES + 2048);
        try (ZipOutputStream z = new ZipOutputStream(bo)) {
            z.setMethod(ZipOutputStream.STORED);
            put(z, "archive/data.pkl", pkl);
            put(z, "archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
            for (int k = 0; k < STORAGES; k++) put(z, "archive/data/" + k, STORAGE);
            put(z, "archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bo.toByteArray();
    }

    private static final byte[] STORAGE = new byte[STORAGE_BYTES];

    static {
        for (int i = 0; i < STORAGE.length; i++) STORAGE[i] = (byte) ((i * 7 / 3) & 1);
    }

    private static void put(ZipOutputStream z, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        e.setCrc(crc.getValue());
        z.putNextEntry(e);
        z.write(data);
        z.closeEntry();
    }
}
