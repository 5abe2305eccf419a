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
        description = "Convert weights between .pt and .safetensors (format from the output extension).")
public final class ConvertCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "IN", description = "Input weights (.pt/.pth/.bin, .safetensors, .npz).")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "Output file: .pt, .pth or .safetensors.")
    Path out;

    @Option(names = "--key", paramLabel = "ema|model", description = "Which weights of a training checkpoint (default: ema if present).")
    String key;

    @picocli.CommandLine.Mixin
    VerifyOption verifyOption;

    @Override
    public Integer call() throws Exception {
        Engine.init();
        Checks.regularFile("IN", in);
        if (in.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) throw new UserError("IN and OUT are the same file");
        WeightFiles.requireWritableFormat(out);
        FileKinds.requireReplaceable(out, "OUT");
        Map<String, Tensor> sd = ModelFiles.readWeights(in, key, verifyOption.verify()).stateDict();
        WeightFiles.writeStateDict(out, sd);
        long n = 0;
        for (Tensor t : sd.values()) n += t.numel();
        System.out.printf("wrote %s: %d tensors, %,d values%n", out, sd.size(), n);
        return 0;
    }
}
