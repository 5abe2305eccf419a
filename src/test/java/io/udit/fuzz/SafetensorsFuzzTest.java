package io.udit.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.udit.engine.Engine;
import io.udit.io.Safetensors;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Path;

/** {@link Safetensors#read}, {@code describe} and {@code metadata} on arbitrary files. Clean failures: IOException. */
class SafetensorsFuzzTest {
    @BeforeAll
    static void init() {
        Engine.init();
    }

    @Timeout(FuzzSupport.TIMEOUT_SECONDS)
    @FuzzTest(maxDuration = "10m")
    void safetensors(byte[] data) {
        Path f = FuzzSupport.write("t.safetensors", data);
        FuzzSupport.expect(() -> Safetensors.describe(f), IOException.class);
        FuzzSupport.expect(() -> Safetensors.metadata(f), IOException.class);
        try (PointerScope s = new PointerScope()) {
            FuzzSupport.expect(() -> Safetensors.read(f), IOException.class);
        }
    }
}
