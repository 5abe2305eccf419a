package io.udit.eval;

import io.udit.engine.Engine;
import io.udit.io.Npz;
import io.udit.io.WeightFiles;
import io.udit.testing.Cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Not a test: times {@code udit eval} end to end on N random 256 x 256 samples against N reference images, with the
 * formula Inception weights (same cost as the real ones). Usage: java -cp ... io.udit.eval.EvalBenchmark DIR [N].
 */
public final class EvalBenchmark {
    public static void main(String[] args) throws Exception {
        Path dir = Files.createDirectories(Path.of(args[0]));
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        Engine.init();
        Path w = dir.resolve("fid-formula.pth");
        if (!Files.exists(w)) WeightFiles.writeStateDict(w, FidInceptionV3Test.formulaStateDict(true));
        Path s = dir.resolve("samples.npz");
        Path r = dir.resolve("ref.npz");
        if (!Files.exists(s)) Npz.write(s, Map.of("arr_0", EvalCliTest.images(1, n, 256, 256)));
        if (!Files.exists(r)) Npz.write(r, Map.of("arr_0", EvalCliTest.images(2, n, 256, 256)));
        System.out.println(Engine.threadSettings());
        String[] passes = args.length > 2 && args[2].equals("cached") ? new String[] {"both cached"}
                : new String[] {"cold (no cache)", "reference cached, samples new", "both cached"};
        for (String pass : passes) {
            if (pass.startsWith("cold")) {
                try (var files = Files.list(dir)) {
                    files.filter(p -> p.getFileName().toString().contains(".udit-acts-")).forEach(p -> p.toFile().delete());
                }
            } else if (pass.startsWith("reference")) {
                try (var files = Files.list(dir)) {
                    files.filter(p -> p.getFileName().toString().startsWith("samples.udit-acts-")).forEach(p -> p.toFile().delete());
                }
            }
            long t0 = System.nanoTime();
            Cli.Result res = EvalCliTest.run("eval", "--samples", s.toString(), "--ref", r.toString(), "--inception", w.toString(), "--json");
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf("%s: exit %d, %.1f s wall, %.2f sample images/s end to end%n%s", pass, res.exitCode(), secs, n / secs, res.out());
        }
    }
}
