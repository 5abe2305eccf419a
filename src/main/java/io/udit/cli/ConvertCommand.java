package io.udit.cli;

import io.udit.engine.Engine;
import io.udit.api.ModelFiles;
import io.udit.engine.FileKinds;
import io.udit.io.WeightFiles;
import org.bytedeco.pytorch.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/** Converts weights between torch .pt and .safetensors; training checkpoints give their ema (or model) weights. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert weights between .pt and .safetensors (format from the output extension).",
        footer = {"", "Examples:", "  udit convert --weights runs/fm/checkpoints/step_0001000.pt --out fm-ema.safetensors",
                "  udit convert --weights DiT-XL-2-256x256.pt --out DiT-XL-2-256x256.safetensors",
                "  udit convert --weights step_0001000.pt --key model --out raw.pt   (the raw, not the EMA, weights)"})
public final class ConvertCommand implements Callable<Integer> {
    @Option(names = "--weights", paramLabel = "FILE",
            description = "Required: the weights to convert (.pt/.pth/.bin, .safetensors, .npz; udit training checkpoints too).")
    Path in;

    @Option(names = "--out", paramLabel = "FILE", description = "Required: the output file, .pt, .pth or .safetensors.")
    Path out;

    @Parameters(arity = "0..2", hidden = true, paramLabel = "IN OUT", description = "Old form: the input and output files.")
    void positional(java.util.List<Path> files) {
        if (!files.isEmpty()) in = files.get(0);
        if (files.size() > 1) out = files.get(1);
    }

    @Option(names = "--key", paramLabel = "ema|model", description = "Which weights of a training checkpoint (default: ema if present).")
    String key;

    @picocli.CommandLine.Mixin
    VerifyOption verifyOption;

    @Override
    public Integer call() throws Exception {
        Engine.init();
        if (in == null || out == null) throw new UserError("give --weights FILE and --out FILE");
        Checks.regularFile("--weights", in);
        if (in.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) throw new UserError("--weights and --out are the same file");
        WeightFiles.requireWritableFormat(out);
        FileKinds.requireReplaceable(out, "--out");
        Map<String, Tensor> sd = ModelFiles.readWeights(in, key, verifyOption.verify()).stateDict();
        WeightFiles.writeStateDict(out, sd);
        long n = 0;
        for (Tensor t : sd.values()) n += t.numel();
        System.out.printf("wrote %s: %d tensors, %,d values%n", out.toAbsolutePath(), sd.size(), n);
        return 0;
    }
}
