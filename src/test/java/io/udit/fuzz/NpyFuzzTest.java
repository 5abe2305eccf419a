package io.udit.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.udit.data.DataException;
import io.udit.data.FuzzAccess;
import io.udit.engine.Engine;
import io.udit.io.Npy;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The two .npy readers: {@link Npy#read} (tensors; clean failure IOException) and the data package's pure-Java
 * {@code NpyArray} used by the latent loader (clean failure DataException), which also reads every element back.
 */
class NpyFuzzTest {
    @BeforeAll
    static void init() {
        Engine.init();
    }

    @Timeout(FuzzSupport.TIMEOUT_SECONDS)
    @FuzzTest(maxDuration = "10m")
    void npy(byte[] data) {
        Path f = FuzzSupport.write("a.npy", data);
        try (PointerScope s = new PointerScope()) {
            FuzzSupport.expect(() -> Npy.read(f), IOException.class);
        }
    }

    @Timeout(FuzzSupport.TIMEOUT_SECONDS)
    @FuzzTest(maxDuration = "10m")
    void npyArray(byte[] data) {
        FuzzSupport.expect(() -> FuzzAccess.npyArray(Path.of("fuzz.npy"), data), DataException.class);
    }
}
