package io.udit.bench;

import io.udit.model.ModelConfigs;
import io.udit.io.Json;
import io.udit.model.ModelConfig;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bench's report on a tiny model: fields present and consistent (no timing thresholds). */
class BenchmarkTest {
    static ModelConfig micro() {
        return ModelConfigs.fromMap(Json.parseObject("{\"input_size\": 16, \"in_channels\": 3, \"hidden_size\": 16,"
                + " \"num_heads\": 2, \"depth\": [1, 1, 1, 1, 1], \"mlp_ratio\": 2, \"num_classes\": 4, \"attn_type\": \"v2\","
                + " \"posemb_type\": \"rope2d\", \"downsampler\": \"dwconv5\", \"down_shortcut\": 1}"));
    }

    @Test
    void trainModeSplitsTheStepIntoPhasesThatAddUpToIt() {
        ModelConfig config = micro();
        Map<String, Object> m = Benchmark.run("tiny", config, new Benchmark.Settings(Benchmark.Mode.TRAIN, 2, 1, 3, "ddim", 1, 157));
        assertEquals("train", m.get("mode"));
        @SuppressWarnings("unchecked")
        Map<String, Object> phases = (Map<String, Object>) m.get("train_phases");
        assertEquals(List.of("forward_and_loss_s", "backward_s", "optimizer_s"), List.copyOf(phases.keySet()));
        double sum = 0;
        for (Object v : phases.values()) {
            double d = ((Number) v).doubleValue();
            assertTrue(d > 0, phases.toString());
            sum += d;
        }
        // medians per phase need not add up to the step's median exactly, but they cannot exceed the slowest step
        assertTrue(sum <= 3 * ((Number) m.get("max_s")).doubleValue(), m.toString());
        assertTrue(sum >= 0.3 * ((Number) m.get("min_s")).doubleValue(), m.toString());
    }

    @Test
    @SuppressWarnings("unchecked")
    void trainProfileChargesTheWholeBackwardToSections() {
        Map<String, Object> m = Benchmark.run("tiny", micro(), new Benchmark.Settings(Benchmark.Mode.TRAIN, 2, 0, 1, "ddim", 1, 157, true, false));
        Map<String, Object> p = (Map<String, Object>) m.get("train_profile");
        List<Map<String, Object>> sections = (List<Map<String, Object>>) p.get("sections");
        double sum = 0;
        for (Map<String, Object> r : sections) sum += ((Number) r.get("backward_s")).doubleValue();
        double backward = ((Number) p.get("backward_s")).doubleValue();
        assertEquals(backward, sum, 1e-3 + 1e-3 * backward, p.toString()); // rounding of each row only
        List<String> names = sections.stream().map(r -> (String) r.get("section")).toList();
        for (String s : List.of("ffn conv1x1", "attn sdpa", "layernorm+modulate", "attn qkv linear")) assertTrue(names.contains(s), names.toString());
    }

    @Test
    void checkpointedTrainingIsReported() {
        Map<String, Object> m = Benchmark.run("tiny", micro(), new Benchmark.Settings(Benchmark.Mode.TRAIN, 2, 0, 1, "ddim", 1, 157, false, true));
        assertEquals(Boolean.TRUE, m.get("activation_checkpointing"));
    }

    @Test
    void forwardModeHasNoTrainPhases() {
        ModelConfig config = micro();
        Map<String, Object> m = Benchmark.run("tiny", config, new Benchmark.Settings(Benchmark.Mode.FORWARD, 2, 0, 1, "ddim", 1, 157));
        assertTrue(!m.containsKey("train_phases") && m.containsKey("median_s"), m.toString());
    }
}
