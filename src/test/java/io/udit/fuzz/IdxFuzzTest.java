package io.udit.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.udit.data.DataException;
import io.udit.data.FuzzAccess;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;

/**
 * The Fashion-MNIST IDX reader, raw and gzipped (a file starting with the gzip magic is given a .gz name), as an
 * image file (3 dims) and a label file (1 dim). Clean failure: DataException.
 */
class IdxFuzzTest {
    @Timeout(FuzzSupport.TIMEOUT_SECONDS)
    @FuzzTest(maxDuration = "10m")
    void idx(byte[] data) {
        boolean gz = data.length >= 2 && (data[0] & 0xff) == 0x1f && (data[1] & 0xff) == 0x8b;
        Path f = FuzzSupport.write(gz ? "images-idx3-ubyte.gz" : "images-idx3-ubyte", data);
        FuzzSupport.expect(() -> FuzzAccess.idx(f, 3), DataException.class);
        FuzzSupport.expect(() -> FuzzAccess.idx(f, 1), DataException.class);
    }
}
