package io.udit.cli;

import io.udit.engine.Engine;
import io.udit.eval.AdmEvaluator;
import io.udit.eval.EvalException;
import io.udit.eval.FidInceptionV3;
import io.udit.eval.PrecisionRecall;
import io.udit.io.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** ADM-evaluator metrics (FID, sFID, IS, precision, recall) of a sample batch against a reference batch. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"FID, sFID, Inception Score, precision and recall of samples against a reference batch, as the ADM "
                + "evaluator computes them (with pytorch-fid's port of the FID Inception network).",
                "Both files are np.savez archives with arr_0 = uint8 images N x H x W x 3; the reference may instead "
                + "(or also) hold precomputed mu, sigma, mu_s, sigma_s."},
        footer = {"", "Examples:", "  udit eval --samples samples/samples.npz --ref VIRTUAL_imagenet256_labeled.npz",
                "  udit eval --samples s.npz --ref ref.npz --inception pt_inception-2015-12-05-6726825d.pth --json",
                "", "The Inception weights: " + FidInceptionV3.WEIGHTS_FILE_NAME + " from pytorch-fid's release",
                "github.com/mseitzer/pytorch-fid/releases/tag/fid_weights, saved in ~/.cache/udit/ (or pass",
                "--inception FILE, or set UDIT_INCEPTION)."})
public final class EvalCommand implements Callable<Integer> {
    @Option(names = "--samples", required = true, paramLabel = "S.npz", description = "Generated samples (arr_0: uint8 N x H x W x 3).")
    Path samples;

    @Option(names = "--ref", required = true, paramLabel = "REF.npz",
            description = "Reference batch (arr_0 images and/or mu, sigma, mu_s, sigma_s), for example ADM's VIRTUAL_imagenet256_labeled.npz.")
    Path ref;

    @Option(names = "--inception", paramLabel = "FILE",
            description = "FID Inception weights (pytorch-fid's " + FidInceptionV3.WEIGHTS_FILE_NAME + "). Default: $UDIT_INCEPTION, "
                    + "else ~/.cache/udit/" + FidInceptionV3.WEIGHTS_FILE_NAME + ".")
    Path inception;

    @Option(names = "--batch", defaultValue = "50", paramLabel = "N", description = "Images per Inception batch (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--no-cache", description = "Do not read or write cached activations (files <name>.udit-acts-<hash>.npz next to each input).")
    boolean noCache;

    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "Where activations go when an input's folder is not writable (default ~/.cache/udit/activations).")
    Path cacheDir;

    @Option(names = "--distances", defaultValue = "float32", paramLabel = "float32|float64",
            description = "Arithmetic of the precision/recall distances: float32 (default) or float64.")
    String distances;

    @Option(names = "--json", description = "Print the results as JSON only.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Checks.inRange("--batch", batch, 1, 4096);
        Checks.regularFile("--samples", samples);
        Checks.regularFile("--ref", ref);
        PrecisionRecall.Precision prec = switch (distances.toLowerCase(Locale.ROOT)) {
            case "float32" -> PrecisionRecall.Precision.FLOAT32;
            case "float64" -> PrecisionRecall.Precision.FLOAT64;
            default -> throw new UserError("--distances must be float32 or float64, got " + distances);
        };
        Path weights = resolveWeights();
        Engine.init();
        try {
            AdmEvaluator.validateInputs(samples, ref); // cheap checks before loading the network
        } catch (EvalException e) {
            throw new UserError(e.getMessage(), e);
        }
        AdmEvaluator.Options o = AdmEvaluator.Options.defaults().withBatchSize(batch).withCache(!noCache)
                .withPrecisionRecall(PrecisionRecall.Options.ADM.withPrecision(prec))
                .withProgress(true);
        if (cacheDir != null) o = o.withFallbackCacheDir(cacheDir);
        Map<String, Object> r;
        try {
            AdmEvaluator ev = AdmEvaluator.load(weights, o);
            r = ev.evaluate(samples, ref, msg -> System.err.println(msg));
        } catch (EvalException e) {
            throw new UserError(e.getMessage(), e);
        }
        if (json) {
            System.out.println(Json.writePretty(r));
        } else {
            System.out.print(table(r));
        }
        return 0;
    }

    private Path resolveWeights() {
        Path p = inception;
        if (p == null) {
            String env = System.getenv("UDIT_INCEPTION");
            p = env != null && !env.isBlank() ? Path.of(env)
                    : Path.of(System.getProperty("user.home"), ".cache", "udit", FidInceptionV3.WEIGHTS_FILE_NAME);
        }
        if (!Files.isRegularFile(p)) {
            throw new UserError("FID Inception weights not found at " + p + ". Download " + FidInceptionV3.WEIGHTS_URL
                    + " (pytorch-fid's port of the 2015 TF Inception graph) and pass it with --inception or $UDIT_INCEPTION.");
        }
        return p;
    }

    @SuppressWarnings("unchecked")
    static String table(Map<String, Object> r) {
        Map<String, Object> s = (Map<String, Object>) r.get("samples");
        Map<String, Object> f = (Map<String, Object>) r.get("reference");
        StringBuilder b = new StringBuilder();
        b.append(String.format("samples:   %s (%s images, %s)%n", s.get("file"), s.get("images"), s.get("image_size")));
        b.append(String.format("reference: %s (%s images, statistics from %s)%n", f.get("file"), f.get("images"), f.get("statistics")));
        b.append(String.format("%-18s %s%n", "metric", "value"));
        int splits = ((Number) r.get("inception_score_splits")).intValue();
        b.append(String.format("%-18s %s +- %s (%d split%s)%n", "Inception Score", fmt(r.get("inception_score")),
                fmt(r.get("inception_score_std")), splits, splits == 1 ? "" : "s"));
        b.append(String.format("%-18s %s%n", "FID", fmt(r.get("fid"))));
        b.append(String.format("%-18s %s%n", "sFID", fmt(r.get("sfid"))));
        b.append(String.format("%-18s %s%n", "Precision", fmt(r.get("precision"))));
        b.append(String.format("%-18s %s%n", "Recall", fmt(r.get("recall"))));
        for (Object n : (List<Object>) r.get("notes")) b.append("note: ").append(n).append('\n');
        Map<String, Object> t = (Map<String, Object>) r.get("timing");
        b.append(String.format("time: %.1f s total", ((Number) t.get("total_seconds")).doubleValue()));
        Object ips = t.get("sample_inception_images_per_second");
        if (ips != null) b.append(String.format(", %.2f images/s through Inception", ((Number) ips).doubleValue()));
        b.append('\n');
        return b.toString();
    }

    private static String fmt(Object v) {
        return v == null ? "n/a" : String.format("%.4f", ((Number) v).doubleValue());
    }
}
