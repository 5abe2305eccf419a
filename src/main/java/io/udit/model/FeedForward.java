package io.udit.model;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/** The per-pixel feed-forward of a U-DiT layer; three variants from the paper's ablation. */
public abstract class FeedForward extends Module {
    public abstract Tensor forward(Tensor x, Form form, Probe probe);

    public Tensor forward(Tensor x, Form form) {
        return forward(x, form, Probe.NONE);
    }

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

    /** "dwconv": 1x1 expand, exact GELU, depthwise 5x5, 1x1 project (the reference FeedForward with rep=0). */
    static final class DwConvFeedForward extends FeedForward {
        final Layers.Conv2d projectIn, dwconv, projectOut;

        DwConvFeedForward(int width, int hidden) {
            projectIn = new Layers.Conv2d(width, hidden, 1, true);
            dwconv = new Layers.Conv2d(hidden, hidden, 5, hidden, true);
            projectOut = new Layers.Conv2d(hidden, width, 1, true);
            register_module("project_in", projectIn);
            register_module("dwconv", dwconv);
            register_module("project_out", projectOut);
        }

        @Override
        public Tensor forward(Tensor x, Form form, Probe probe) {
            Tensor in = probe.time("ffn conv1x1", () -> projectIn.forward(x));
            Tensor hdn = probe.time("ffn gelu", () -> org.bytedeco.pytorch.global.torch.gelu(in));
            Tensor mid = probe.time("ffn depthwise", () -> dwconv.forward(hdn));
            return probe.time("ffn conv1x1", () -> projectOut.forward(mid));
        }
    }

    /** "basic": the ViT MLP as 1x1 convs with tanh-approximated GELU (keys fc1, fc2). */
    static final class BasicFeedForward extends FeedForward {
        final Layers.Conv2d fc1, fc2;

        BasicFeedForward(int width, int hidden) {
            fc1 = new Layers.Conv2d(width, hidden, 1, true);
            fc2 = new Layers.Conv2d(hidden, width, 1, true);
            register_module("fc1", fc1);
            register_module("fc2", fc2);
        }

        @Override
        public Tensor forward(Tensor x, Form form, Probe probe) {
            Tensor h = probe.time("ffn conv1x1", () -> fc1.forward(x));
            Tensor g = probe.time("ffn gelu", () -> org.bytedeco.pytorch.global.torch.gelu(h, "tanh"));
            return probe.time("ffn conv1x1", () -> fc2.forward(g));
        }
    }
}
