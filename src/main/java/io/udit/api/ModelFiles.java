package io.udit.api;

import io.udit.engine.FileKinds;
import io.udit.engine.UserInputException;
import io.udit.io.TorchCheckpoint;
import io.udit.io.WeightFiles;
import io.udit.model.Backbone;
import io.udit.model.ConfigBounds;
import io.udit.model.ModelConfig;
import io.udit.model.ModelConfigs;
import io.udit.transport.FlowPath;
import io.udit.transport.LossWeight;
import io.udit.transport.Prediction;
import io.udit.transport.Transport;
import io.udit.train.CheckpointVerification;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

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

        /**
         * The flow-matching objective the model was trained with, or null for a DDPM model: a udit run with
         * {@code "objective": "flow"}, or a SiT checkpoint (its args carry {@code path_type}, {@code prediction},
         * {@code loss_weight}, {@code train_eps}, {@code sample_eps}).
         */
        public Transport transport() {
            if (args == null) return null;
            Map<?, ?> f;
            if ("flow".equals(args.get("objective")) && args.get("flow") instanceof Map<?, ?> m) {
                f = m;
                return transport(f.get("path"), f.get("prediction"), f.get("loss_weight"), f.get("train_eps"), f.get("sample_eps"));
            }
            if (args.get("path_type") instanceof String) {
                return transport(args.get("path_type"), args.get("prediction"), args.get("loss_weight"), args.get("train_eps"), args.get("sample_eps"));
            }
            return null;
        }

        private static Transport transport(Object path, Object prediction, Object weight, Object trainEps, Object sampleEps) {
            try {
                return Transport.create(FlowPath.parse(String.valueOf(path)), Prediction.parse(prediction == null ? "velocity" : String.valueOf(prediction)),
                        LossWeight.parse(weight == null ? null : String.valueOf(weight)),
                        trainEps instanceof Number n ? n.doubleValue() : null, sampleEps instanceof Number n ? n.doubleValue() : null);
            } catch (IllegalArgumentException e) {
                throw new UserInputException("the flow-matching settings recorded in the checkpoint are invalid: " + e.getMessage(), e);
            }
        }
    }

    /** The weights of a file and, for torch checkpoints, the whole tree they came from (null otherwise). */
    public record Weights(Map<String, Tensor> stateDict, Object tree) {}

    /**
     * The one way weights are read (sample, forward, convert, {@link #load}): the state dict of any weight file,
     * with the checksum of a udit training checkpoint verified unless {@code verify} is false, and names that are
     * not valid Unicode refused.
     *
     * @param key "ema" or "model" for training checkpoints (null: ema when present)
     */
    public static Weights readWeights(Path file, String key, boolean verify) throws IOException {
        FileKinds.requireRegular(file, "weights file");
        if (WeightFiles.detect(file) != WeightFiles.Format.TORCH) return new Weights(WeightFiles.readStateDict(file, key), null);
        Object tree = TorchCheckpoint.read(file);
        if (verify) CheckpointVerification.verify(file, tree);
        return new Weights(TorchCheckpoint.stateDictOf(tree, file, key), tree);
    }

    /**
     * @param key     "ema" or "model" for training checkpoints (null: ema when present)
     * @param given   the caller's config (null: take it from the file)
     */
    public static Loaded load(Path file, String key, ModelConfig given) throws IOException {
        return load(file, key, given, true, c -> {});
    }

    /**
     * @param verify        check the checksum of a udit training checkpoint
     * @param checkRecorded called with the config recorded in the file before anything is built (when it is used)
     */
    public static Loaded load(Path file, String key, ModelConfig given, boolean verify, Consumer<ModelConfig> checkRecorded)
            throws IOException {
        if (given != null) ConfigBounds.checkMemory(given);
        Weights w = readWeights(file, key, verify);
        ModelConfig fromFile = configFromArgs(file, w.tree());
        Map<?, ?> args = w.tree() instanceof Map<?, ?> m && m.get("args") instanceof Map<?, ?> a ? a : null;
        ModelConfig config;
        String source;
        if (given != null) {
            config = given;
            source = "given";
        } else if (fromFile != null) {
            checkRecorded.accept(fromFile);
            config = fromFile;
            source = "checkpoint args";
        } else {
            throw new UserInputException(file + " holds no model configuration: give --model NAME or --config FILE");
        }
        Backbone model = config.build(0);
        model.loadStateDict(w.stateDict());
        return new Loaded(model, config, source, args);
    }

    /** Whether a DiT-layout checkpoint's final layer predicts 2 x 4 latent channels (a learned variance) per patch pixel. */
    private static boolean learnsSigma(Map<?, ?> tree) {
        Object sd = tree.get("ema") instanceof Map<?, ?> e ? e : tree.get("model");
        if (sd instanceof Map<?, ?> m && m.get("final_layer.linear.weight") instanceof Tensor w && m.get("x_embedder.proj.weight") instanceof Tensor x) {
            long inChannels = x.size(1), patchArea = x.size(2) * x.size(3);
            return w.size(0) == 2 * inChannels * patchArea;
        }
        return true;
    }

    /** The model config recorded in a checkpoint's "args", or null; a recorded config that is invalid is refused naming the file. */
    @SuppressWarnings("unchecked")
    static ModelConfig configFromArgs(Path file, Object tree) {
        if (!(tree instanceof Map<?, ?> map) || !(map.get("args") instanceof Map<?, ?> args)) return null;
        Object model = args.get("model");
        if (model instanceof Map<?, ?> m) { // ours
            try {
                return ModelConfigs.fromMap((Map<String, Object>) m);
            } catch (IllegalArgumentException e) {
                throw new UserInputException(file + ": the model config in its args is invalid: " + e.getMessage(), e);
            }
        }
        if (model instanceof String name) { // the reference's train.py: --model U-DiT-B --image-size 256 --num-classes 1000
            Map<String, Object> m = new LinkedHashMap<>();
            // SiT's networks are DiT's (SiT-XL/2 = DiT-XL/2); whether they learned a variance shows in the final layer
            m.put("model", name.startsWith("SiT-") ? "DiT-" + name.substring(4) : name);
            if (name.startsWith("SiT-")) m.put("learn_sigma", learnsSigma(map));
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
