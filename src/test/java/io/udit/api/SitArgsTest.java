package io.udit.api;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.model.DiTConfig;
import io.udit.model.ModelConfig;
import io.udit.model.ModelConfigs;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SiT's checkpoint args name DiT networks (SiT-XL/2 = DiT-XL/2) and carry the transport SiT trained with. */
class SitArgsTest {
    static Map<String, Object> tree(long finalOut) {
        Engine.init();
        Map<String, Object> ema = new LinkedHashMap<>();
        ema.put("x_embedder.proj.weight", Tensors.zeros(ScalarType.Float, 1152, 4, 2, 2));
        ema.put("final_layer.linear.weight", Tensors.zeros(ScalarType.Float, finalOut, 1152));
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("model", "SiT-XL/2");
        args.put("image_size", 256L);
        args.put("num_classes", 1000L);
        args.put("path_type", "GVP");
        args.put("prediction", "noise");
        args.put("loss_weight", "likelihood");
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("ema", ema);
        t.put("args", args);
        return t;
    }

    @Test
    void sitNamesMapToDitNetworksWithTheirLearnedVarianceAndTransport() {
        ModelConfig learned = ModelFiles.configFromArgs(Path.of("sit.pt"), tree(2 * 4 * 4));
        assertTrue(learned instanceof DiTConfig);
        assertEquals(ModelConfigs.named("DiT-XL/2").withLearnSigma(true).toMap(), learned.toMap());
        assertTrue(learned.learnSigma());
        ModelConfig single = ModelFiles.configFromArgs(Path.of("sit.pt"), tree(4 * 4));
        assertFalse(single.learnSigma());
        assertEquals(32, single.inputSize());

        @SuppressWarnings("unchecked")
        Map<Object, Object> args = (Map<Object, Object>) tree(32).get("args");
        var tr = new ModelFiles.Loaded(null, learned, "checkpoint args", args).transport();
        assertEquals("GVP", tr.path().getClass().getSimpleName().replace("Path", "").toUpperCase());
        assertEquals("NOISE", tr.prediction().name());
        assertEquals("LIKELIHOOD", tr.lossWeight().name());
        assertNull(new ModelFiles.Loaded(null, learned, "given", Map.of("model", "U-DiT-S")).transport(), "DDPM runs have no transport");
    }
}
