package io.udit.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.udit.io.Json;
import io.udit.model.ModelConfig;
import io.udit.model.ModelConfigs;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * {@link Json#parse} (clean failure: Json.ParseException; what parses must write back, and the text written must parse
 * to the same value) and model configs {@code ModelConfigs.fromMap(Json.parseObject(..))} (clean failure: IllegalArgumentException,
 * of which ParseException is one; a config accepted must survive its own toMap).
 */
class JsonConfigFuzzTest {
    @Timeout(FuzzSupport.TIMEOUT_SECONDS)
    @FuzzTest(maxDuration = "10m")
    void json(byte[] data) {
        String text = new String(data, StandardCharsets.UTF_8);
        Object v;
        try {
            v = Json.parse(text);
        } catch (Json.ParseException e) {
            if (e.getMessage() == null || e.offset() < 0 || e.offset() > text.length()) throw new AssertionError("bad offset", e);
            return;
        }
        Object again = Json.parse(Json.write(v));
        if (!java.util.Objects.equals(v, again)) throw new AssertionError("JSON round trip changed the value: " + text);
    }

    @Timeout(FuzzSupport.TIMEOUT_SECONDS)
    @FuzzTest(maxDuration = "10m")
    void config(byte[] data) {
        String text = new String(data, StandardCharsets.UTF_8);
        FuzzSupport.expect(() -> {
            Map<String, Object> m = Json.parseObject(text);
            ModelConfig c = ModelConfigs.fromMap(m);
            ModelConfig again = ModelConfigs.fromMap(Json.parseObject(Json.write(c.toMap())));
            if (!c.equals(again)) throw new AssertionError("config " + c + " does not survive toMap: " + again);
        }, IllegalArgumentException.class);
    }
}
