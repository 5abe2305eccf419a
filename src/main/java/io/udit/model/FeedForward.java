package io.udit.model;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** The per-pixel feed-forward of a U-DiT layer; three variants from the paper's ablation. */
public abstract class FeedForward extends Hooked.Unary {
    /** Called when the network switches form; variants with an inference form (re)build it here. */
    void prepare(Form form) {}

    static FeedForward create(int width, UDiTConfig c) {
        int hidden = c.ffnHidden(width);
        return switch (c.ffn()) {
            case REP -> new RepFeedForward(width, hidden);
            case DWCONV -> new DwConvFeedForward(width, hidden);
            case BASIC -> new BasicFeedForward(width, hidden);
        };
    }

    static final String CONV1X1 = "ffn conv1x1", DEPTHWISE = "ffn depthwise";

    /** Exact GELU. */
    static Tensor gelu(Tensor x) {
        return Hooks.step("ffn gelu", () -> torch.gelu(x));
    }

    /** "dwconv": 1x1 expand, exact GELU, depthwise 5x5, 1x1 project (the reference FeedForward with rep=0). */
    static final class DwConvFeedForward extends FeedForward {
        final Layers.Conv2d projectIn, dwconv, projectOut;

        DwConvFeedForward(int width, int hidden) {
            projectIn = new Layers.Conv2d(width, hidden, 1, true).hook(null, CONV1X1);
            dwconv = new Layers.Conv2d(hidden, hidden, 5, hidden, true).hook(null, DEPTHWISE);
            projectOut = new Layers.Conv2d(hidden, width, 1, true).hook(null, CONV1X1);
            register_module("project_in", projectIn);
            register_module("dwconv", dwconv);
            register_module("project_out", projectOut);
        }

        @Override
        public Tensor forward(Tensor x) {
            return projectOut.call(dwconv.call(gelu(projectIn.call(x))));
        }
    }

    /** "basic": the ViT MLP as 1x1 convs with tanh-approximated GELU (keys fc1, fc2). */
    static final class BasicFeedForward extends FeedForward {
        final Layers.Conv2d fc1, fc2;

        BasicFeedForward(int width, int hidden) {
            fc1 = new Layers.Conv2d(width, hidden, 1, true).hook(null, CONV1X1);
            fc2 = new Layers.Conv2d(hidden, width, 1, true).hook(null, CONV1X1);
            register_module("fc1", fc1);
            register_module("fc2", fc2);
        }

        @Override
        public Tensor forward(Tensor x) {
            return fc2.call(Hooks.step("ffn gelu", () -> torch.gelu(fc1.call(x), "tanh")));
        }
    }
}
