package io.udit.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.udit.data.DataException;
import io.udit.data.FuzzAccess;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;

/**
 * Image decoding for ImageFolder: javax.imageio readers behind our header checks (size limit before decoding, RGB
 * conversion), then ADM's centre crop to 8x8 (Pillow-exact resampling). Clean failure: DataException.
 */
class ImageFuzzTest {
    @Timeout(FuzzSupport.TIMEOUT_SECONDS)
    @FuzzTest(maxDuration = "10m")
    void image(byte[] data) {
        Path f = FuzzSupport.write("image.png", data);
        FuzzSupport.expect(() -> FuzzAccess.image(f, 8), DataException.class);
    }
}
