package io.udit.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.udit.engine.Engine;
import io.udit.io.Npz;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Path;

/** {@link Npz#read} (zip structure through {@code ZipArchive}, then each .npy entry). Clean failures: IOException. */
class NpzFuzzTest {
    @BeforeAll
    static void init() {
        Engine.init();
    }

    @Timeout(FuzzSupport.TIMEOUT_SECONDS)
    @FuzzTest(maxDuration = "10m")
    void npz(byte[] data) {
        Path f = FuzzSupport.write("a.npz", data);
        try (PointerScope s = new PointerScope()) {
            FuzzSupport.expect(() -> Npz.read(f), IOException.class);
        }
    }
}
