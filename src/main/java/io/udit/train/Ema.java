package io.udit.train;

import io.udit.model.Backbone;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Exponential moving average of a model's weights, held in a second model of the same architecture. */
public final class Ema {
    private final Backbone shadow;
    private final List<Tensor> target = new ArrayList<>();
    private final List<Tensor> source = new ArrayList<>();

    /** Starts as an exact copy of {@code model} (the reference's update_ema(ema, model, decay=0)). */
    public Ema(Backbone model) {
        shadow = model.config().build(0);
        shadow.copyWeightsFrom(model);
        Map<String, Tensor> mine = shadow.stateDict();
        for (var e : model.stateDict().entrySet()) {
            source.add(e.getValue());
            target.add(mine.get(e.getKey()));
        }
    }

    public Backbone model() {
        return shadow;
    }

    /** ema = decay * ema + (1 - decay) * param, for every tensor of the state dict. */
    public void update(double decay) {
        try (NoGradGuard g = new NoGradGuard()) {
            Scalar keep = new Scalar(decay), take = new Scalar(1.0 - decay);
            for (int i = 0; i < target.size(); i++) {
                target.get(i).mul_(keep).add_(source.get(i), take);
            }
        }
    }

    /** The decay for a step: fixed, or with warm-up min(decay, (1 + step) / (10 + step)). */
    public static double decayAt(double decay, boolean warmup, long step) {
        return warmup ? Math.min(decay, (1.0 + step) / (10.0 + step)) : decay;
    }
}
