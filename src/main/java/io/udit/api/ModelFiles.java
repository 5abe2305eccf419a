package io.udit.api;

import io.udit.io.TorchCheckpoint;
import io.udit.io.WeightFiles;
import io.udit.model.Backbone;
import io.udit.model.ModelConfig;
import io.udit.model.ModelConfigs;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Loading a network from a weights file: our training checkpoints (the model config travels in "args"), the
 * reference's training checkpoints (args.model names the config, args.image_size / 8 the latent size), or bare state
 * dicts (.pt, .safetensors, .npz) together with a config the caller supplies.
 */
public final class ModelFiles {
    private ModelFiles() {}

    /** A loaded network and where its configuration came from. */
    public record Loaded(Backbone model, ModelConfig config, String configSource, Map<?, ?> args) {
        /** The noise schedule recorded by the run ("linear" when absent, as for every reference checkpoint). */
        public String noiseSchedule() {
            return args != null && args.get("noise_schedule") instanceof String s ? s : "linear";
        }
    }

    /**
     * @param key     "ema" or "model" for training checkpoints (null: ema when present)
     * @param given   the caller's config (null: take it from the file)
     */
    public static Loaded load(Path file, String key, ModelConfig given) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException("weights file not found: " + file);
        ModelConfig fromFile = null;
        Map<?, ?> args = null;
        String source;
        if (WeightFiles.detect(file) == WeightFiles.Format.TORCH) {
            Object tree = TorchCheckpoint.read(file);
            fromFile = configFromArgs(tree);
            if (tree instanceof Map<?, ?> m && m.get("args") instanceof Map<?, ?> a) args = a;
        }
        ModelConfig config;
        if (given != null) {
            config = given;
            source = "given";
        } else if (fromFile != null) {
            config = fromFile;
            source = "checkpoint args";
        } else {
            throw new IllegalArgumentException(file + " holds no model configuration: give --model NAME or --config FILE");
        }
        Map<String, Tensor> sd = WeightFiles.readStateDict(file, key);
        Backbone model = config.build(0);
        model.loadStateDict(sd);
        return new Loaded(model, config, source, args);
    }

    /** The model config recorded in a checkpoint's "args", or null. */
    @SuppressWarnings("unchecked")
    static ModelConfig configFromArgs(Object tree) {
        if (!(tree instanceof Map<?, ?> map) || !(map.get("args") instanceof Map<?, ?> args)) return null;
        Object model = args.get("model");
        if (model instanceof Map<?, ?> m) return ModelConfigs.fromMap((Map<String, Object>) m); // ours
        if (model instanceof String name) { // the reference's train.py: --model U-DiT-B --image-size 256 --num-classes 1000
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("model", name);
            if (args.get("image_size") instanceof Long size) m.put("input_size", size / 8);
            if (args.get("num_classes") instanceof Long k) m.put("num_classes", k);
            try {
                return ModelConfigs.fromMap(m);
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
        return null;
    }
}
