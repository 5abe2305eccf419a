package io.udit.io;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static io.udit.io.IoTestUtil.assertFails;
import static io.udit.io.IoTestUtil.assertStateDictEquals;
import static io.udit.io.IoTestUtil.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

class WeightFilesTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void init() {
        Engine.init();
    }

    private static LinkedHashMap<String, Tensor> sample() {
        LinkedHashMap<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("x_embedder.proj.weight", random(ScalarType.Float, 1, 8, 4, 2, 2));
        sd.put("t_embedder.mlp.0.bias", random(ScalarType.Float, 2, 8));
        sd.put("y_embedder.embedding_table.weight", random(ScalarType.Half, 3, 11, 8));
        sd.put("counter", random(ScalarType.Long, 4, 1));
        return sd;
    }

    @Test
    void writesByExtensionAndDetectsByContent() throws Exception {
        LinkedHashMap<String, Tensor> sd = sample();
        Object[][] cases = {{"w.pt", WeightFiles.Format.TORCH}, {"w.pth", WeightFiles.Format.TORCH},
                {"w.bin", WeightFiles.Format.TORCH}, {"w.safetensors", WeightFiles.Format.SAFETENSORS},
                {"w.npz", WeightFiles.Format.NPZ}};
        for (Object[] c : cases) {
            Path f = dir.resolve((String) c[0]);
            WeightFiles.writeStateDict(f, sd);
            assertEquals(c[1], WeightFiles.detect(f), f.toString());
            assertStateDictEquals(sd, WeightFiles.readStateDict(f, null));
            // content decides, not the name
            Path renamed = dir.resolve("renamed_" + c[0] + ".dat");
            Files.copy(f, renamed);
            assertEquals(c[1], WeightFiles.detect(renamed));
            assertStateDictEquals(sd, WeightFiles.readStateDict(renamed, null));
        }
        Path npy = dir.resolve("one.npy");
        Npy.write(npy, random(ScalarType.Float, 1, 3));
        assertEquals(WeightFiles.Format.NPY, WeightFiles.detect(npy));
        assertFails(CheckpointFormatException.class, () -> WeightFiles.readStateDict(npy, null), "single array");
        assertFails(IllegalArgumentException.class, () -> WeightFiles.writeStateDict(dir.resolve("w.onnx"), sd), "extension");
    }

    @Test
    void toFloat32ConvertsHalfAndBFloat16Only() {
        LinkedHashMap<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("h", Tensors.floats(new float[] {1.5f, -2f}, 2).to(ScalarType.Half));
        sd.put("b", Tensors.floats(new float[] {0.5f, 3f}, 2).to(ScalarType.BFloat16));
        Tensor f = Tensors.floats(new float[] {7f}, 1);
        sd.put("f", f);
        Tensor l = Tensors.longs(4L);
        sd.put("l", l);
        LinkedHashMap<String, Tensor> out = WeightFiles.toFloat32(sd);
        assertEquals(sd.keySet(), out.keySet());
        assertSame(ScalarType.Float, out.get("h").scalar_type().intern());
        assertSame(ScalarType.Float, out.get("b").scalar_type().intern());
        assertArrayEquals(new float[] {1.5f, -2f}, Tensors.toFloats(out.get("h")));
        assertArrayEquals(new float[] {0.5f, 3f}, Tensors.toFloats(out.get("b")));
        assertSame(f, out.get("f"));
        assertSame(l, out.get("l"));
        assertSame(ScalarType.Half, sd.get("h").scalar_type().intern(), "input untouched");
    }

    @Test
    void rejectsNonWeightFilesWithGoodMessages() throws Exception {
        byte[] noise = new byte[10_000];
        new Random(3).nextBytes(noise);
        noise[0] = 0x11;
        noise[8] = 0x22;
        Path rnd = IoTestUtil.write(dir.resolve("noise.bin"), noise);
        assertFails(CheckpointFormatException.class, () -> WeightFiles.readStateDict(rnd, null), "noise.bin", "unrecognised binary data");
        Path txt = IoTestUtil.write(dir.resolve("model.pt"), "model: U-DiT-B\nsteps: 400000\n".getBytes());
        assertFails(CheckpointFormatException.class, () -> WeightFiles.readStateDict(txt, "ema"), "model.pt", "text file");
        Path png = IoTestUtil.write(dir.resolve("sample.safetensors"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0});
        assertFails(CheckpointFormatException.class, () -> WeightFiles.detect(png), "PNG image");
        Path legacy = IoTestUtil.write(dir.resolve("old.pth"), new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10, 0x6c, (byte) 0xfc});
        assertFails(CheckpointFormatException.class, () -> WeightFiles.readStateDict(legacy, null), "legacy torch.save format");
        Path emptyZip = dir.resolve("empty.zip");
        try (var zo = new java.util.zip.ZipOutputStream(Files.newOutputStream(emptyZip))) {
            zo.putNextEntry(new java.util.zip.ZipEntry("hello.txt"));
            zo.write("hi".getBytes());
        }
        assertFails(CheckpointFormatException.class, () -> WeightFiles.detect(emptyZip), "neither a torch.save checkpoint");
        assertFails(java.nio.file.NoSuchFileException.class, () -> WeightFiles.detect(dir.resolve("nope.pt")));
        assertFails(CheckpointFormatException.class, () -> WeightFiles.detect(dir), "not a regular file");
        assertFails(CheckpointFormatException.class, () -> Npy.read(dir), "not a regular file");
        assertFails(CheckpointFormatException.class, () -> Npz.read(dir), "not a regular file");
        assertFails(CheckpointFormatException.class, () -> Safetensors.read(dir), "not a regular file");
        assertFails(CheckpointFormatException.class, () -> TorchCheckpoint.read(dir), "not a regular file");
    }

    @Test
    void atomicWritesLeaveOldFileOnFailureAndNoTempFiles() throws Exception {
        Path f = dir.resolve("target.bin");
        AtomicFiles.write(f, "old".getBytes());
        assertFails(IOException.class, () -> AtomicFiles.write(f, ch -> {
            ch.write(ByteBuffer.wrap("partial new content".getBytes()));
            throw new IOException("disk full (simulated)");
        }), "disk full");
        assertArrayEquals("old".getBytes(), Files.readAllBytes(f));
        assertFails(IllegalStateException.class, () -> AtomicFiles.write(f, ch -> {
            throw new IllegalStateException("bug in writer");
        }), "bug in writer");
        assertArrayEquals("old".getBytes(), Files.readAllBytes(f));
        AtomicFiles.write(f, "new".getBytes());
        assertArrayEquals("new".getBytes(), Files.readAllBytes(f));
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "only the target remains");
        }
        assertEquals("rw-r--r--", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        assertFails(java.nio.file.NoSuchFileException.class, () -> AtomicFiles.write(dir.resolve("no/such/dir/x"), new byte[1]));
        // a tensor writer failing half way (unsupported value) also leaves the old checkpoint
        Path ck = dir.resolve("ck.safetensors");
        Safetensors.write(ck, sample(), null);
        byte[] before = Files.readAllBytes(ck);
        Map<String, Tensor> bad = new LinkedHashMap<>(sample());
        bad.put("", random(ScalarType.Float, 1, 1));
        assertFails(IllegalArgumentException.class, () -> Safetensors.write(ck, bad, null), "empty tensor name");
        assertArrayEquals(before, Files.readAllBytes(ck));
        try (var s = Files.list(dir)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")));
        }
    }
}
