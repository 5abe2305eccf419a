package io.udit.cli;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.io.Npy;
import io.udit.model.Backbone;
import io.udit.model.Form;
import io.udit.model.ModelConfig;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** One network evaluation from .npy inputs, eval form by default. */
@Command(name = "forward", mixinStandardHelpOptions = true,
        description = "Run one network evaluation: out = model(x, t, y), written as .npy (float32).",
        footer = {"", "Examples:", "  udit forward --model DiT-XL/2 --weights DiT-XL-2.pt --x x.npy --t t.npy --y y.npy --out o.npy",
                "  udit forward --config c.json --weights w.safetensors --x x.npy --t t.npy --y y.npy --out o.npy \\",
                "      --train-form"})
public final class ForwardCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = {"--weights"}, required = true, paramLabel = "FILE",
            description = "Weights: torch .pt (state dict or training checkpoint), .safetensors or .npz.")
    Path weights;

    @Option(names = "--key", paramLabel = "ema|model", description = "Which weights of a training checkpoint (default: ema if present).")
    String key;

    @Option(names = "--x", required = true, paramLabel = "X.npy", description = "Inputs (N, C, H, W), float.")
    Path x;

    @Option(names = "--t", required = true, paramLabel = "T.npy", description = "Timesteps (N,), integer or float.")
    Path t;

    @Option(names = "--y", required = true, paramLabel = "Y.npy", description = "Class labels (N,), integer; the null class = num_classes.")
    Path y;

    @Option(names = "--out", required = true, paramLabel = "OUT.npy", description = "Where to write the output.")
    Path out;

    @picocli.CommandLine.Mixin
    VerifyOption verifyOption;

    @Option(names = "--train-form", description = "Run the training form (unfolded FFN, reference attention math, autograd on).")
    boolean trainForm;

    @Override
    public Integer call() throws Exception {
        Engine.init();
        Checks.regularFile("--x", x);
        Checks.regularFile("--t", t);
        Checks.regularFile("--y", y);
        Checks.regularFile("--weights", weights);
        ModelConfig config = modelOptions.resolve();
        Backbone model = ModelLoading.load(config, weights, key, verifyOption.verify());
        model.setForm(trainForm ? Form.TRAIN : Form.EVAL);
        try (PointerScope scope = new PointerScope()) {
            Tensor xs = Npy.read(x), ts = Npy.read(t), ys = Npy.read(y);
            ModelLoading.checkInputs(config, xs, ts, ys);
            Tensor xf = xs.to(ScalarType.Float), tf = ts.to(ScalarType.Float), yl = ys.to(ScalarType.Long);
            Tensor result;
            if (trainForm) {
                result = model.forward(xf, tf, yl).detach();
            } else {
                try (InferenceMode guard = new InferenceMode()) {
                    result = model.forward(xf, tf, yl);
                }
            }
            Npy.write(out, result.contiguous());
            System.out.println("wrote " + out.toAbsolutePath() + " " + Tensors.shapeString(result) + " ("
                    + (trainForm ? "train" : "eval") + " form)");
        }
        return 0;
    }
}
