package io.udit.train;

import io.udit.engine.Engine;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** libtorch's AdamW with the betas we ask for, checked against Adam written out by hand. */
class OptimizerSettingsTest {
    @Test
    void adamWUsesTheRequestedBetas() {
        Engine.init();
        double lr = 0.01, b1 = 0.8, b2 = 0.95, eps = 1e-8, wd = 0.1;
        Tensor w = torch.zeros(1);
        w.set_requires_grad(true);
        AdamWOptions o = new AdamWOptions(lr);
        o.weight_decay().put(wd);
        Trainer.setBetas(o, b1, b2);
        AdamW opt = new AdamW(new TensorVector(w), o);
        double x = 0, m = 0, v = 0;
        for (int step = 1; step <= 5; step++) {
            opt.zero_grad();
            w.sub(new Scalar(3.0)).pow(new Scalar(2)).sum().backward(); // gradient 2 (w - 3)
            opt.step();
            double g = 2 * (x - 3);
            x -= lr * wd * x; // decoupled weight decay
            m = b1 * m + (1 - b1) * g;
            v = b2 * v + (1 - b2) * g * g;
            double mh = m / (1 - Math.pow(b1, step)), vh = v / (1 - Math.pow(b2, step));
            x -= lr * mh / (Math.sqrt(vh) + eps);
            assertEquals(x, w.item_double(), 1e-6, "step " + step);
        }
    }
}
