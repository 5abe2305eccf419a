package io.udit.report.tensorboard;

import io.udit.io.Json;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Log-line fields map to TensorBoard tags by kind; bookkeeping and non-numbers stay out. */
class LogTagsTest {
    @Test
    void mapsALogLine() {
        var line = Json.parseObject("{\"step\":20,\"steps_averaged\":10,\"loss\":0.5,\"mse\":0.4,\"vb\":null,\"grad_norm\":1.5,"
                + "\"lr\":1e-4,\"steps_per_s\":2.0,\"images_per_s\":64.0,\"data_wait_s\":0.01,\"rss_mb\":900.0,"
                + "\"fid\":35.2,\"time\":\"2026-12-06T21:00:00Z\"}");
        var tags = LogTags.of(line);
        assertEquals(List.of("train/loss", "train/mse", "train/grad_norm", "train/lr", "perf/steps_per_s",
                "perf/images_per_s", "perf/data_wait_s", "perf/rss_mb", "eval/fid"), List.copyOf(tags.keySet()));
        assertEquals(0.5, tags.get("train/loss").doubleValue());
        assertEquals(35.2, tags.get("eval/fid").doubleValue());
    }
}
