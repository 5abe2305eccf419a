package io.udit.cli;

import io.udit.engine.Tensors;
import io.udit.api.ModelFiles;
import io.udit.model.Backbone;
import io.udit.model.ConfigBounds;
import io.udit.model.DiTConfig;
import io.udit.model.ModelConfig;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** Building a model and loading weights into it, with input checks that name the problem. */
final class ModelLoading {
    private ModelLoading() {}

    static Backbone load(ModelConfig config, Path weights, String key, boolean verify) throws IOException {
        ConfigBounds.checkMemory(config);
        Map<String, Tensor> sd = ModelFiles.readWeights(weights, key, verify).stateDict();
        Backbone model = config.build(0);
        try {
            model.loadStateDict(sd);
        } catch (Backbone.StateDictMismatchException e) {
            throw new UserError(weights + ": " + e.getMessage(), e);
        }
        return model;
    }

    static void checkInputs(ModelConfig c, Tensor x, Tensor t, Tensor y) {
        long[] xs = Tensors.shape(x);
        if (xs.length != 4) throw new UserError("x must be 4-D (N, C, H, W), got shape " + Tensors.shapeString(x));
        if (!x.is_floating_point()) throw new UserError("x must be floating point, got " + x.scalar_type().intern());
        long n = xs[0];
        if (n == 0) throw new UserError("x holds a batch of 0 samples; give at least one");
        if (xs[1] != c.inChannels()) throw new UserError("x has " + xs[1] + " channels, the model takes " + c.inChannels());
        if (xs[2] != c.inputSize() || xs[3] != c.inputSize()) {
            throw new UserError("x is " + xs[2] + "x" + xs[3] + ", the model takes " + c.inputSize() + "x" + c.inputSize()
                    + (c instanceof DiTConfig ? "" : " (use --input-size to build it for another size)"));
        }
        long[] ts = Tensors.shape(t), ys = Tensors.shape(y);
        if (ts.length != 1 || ts[0] != n) throw new UserError("t must have shape [" + n + "], got " + Tensors.shapeString(t));
        if (ys.length != 1 || ys[0] != n) throw new UserError("y must have shape [" + n + "], got " + Tensors.shapeString(y));
        if (Tensors.isType(t, ScalarType.Bool) || Tensors.isType(y, ScalarType.Bool)) throw new UserError("t and y must be numeric");
        if (y.is_floating_point()) throw new UserError("y must hold integer labels, got " + y.scalar_type().intern());
        if (n > 0) {
            long maxLabel = c.hasNullClass() ? c.nullClass() : c.numClasses() - 1;
            long lo = y.min().item_long(), hi = y.max().item_long();
            if (lo < 0 || hi > maxLabel) {
                throw new UserError("labels must be in [0, " + maxLabel + "]" + (c.hasNullClass() ? " (" + c.nullClass() + " = null class)" : "")
                        + ", got values from " + lo + " to " + hi);
            }
            double tlo = t.min().item_double(), thi = t.max().item_double();
            if (!(tlo >= 0) || !(thi <= 1e6)) throw new UserError("timesteps must be finite and non-negative, got " + tlo + " .. " + thi);
        }
    }
}
