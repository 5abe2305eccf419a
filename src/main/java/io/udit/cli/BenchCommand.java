package io.udit.cli;

import io.udit.bench.Benchmark;
import io.udit.io.Json;
import io.udit.model.ModelConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Map;
import java.util.concurrent.Callable;

/** Throughput of forward passes, training steps or sampling runs, with achieved GFLOP/s. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmark a model: median time, images/s, achieved GFLOP/s and share of peak, peak RSS, CPU contention.",
        footer = {"", "Examples:", "  udit bench --model U-DiT-S", "  udit bench --model DiT-XL/2 --mode train --batch 4 --json"})
public final class BenchCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--mode", defaultValue = "forward", description = "forward, train or sample (default ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = "--batch", defaultValue = "8", description = "Images per measured run (default ${DEFAULT-VALUE}).") int batch;
    @Option(names = "--warmup", defaultValue = "2", description = "Unmeasured runs first (default ${DEFAULT-VALUE}).") int warmup;
    @Option(names = "--repeats", defaultValue = "5", description = "Measured runs; the median is reported (default ${DEFAULT-VALUE}).") int repeats;
    @Option(names = "--sampler", defaultValue = "dpm++", description = "For --mode sample: ddpm, ddim, dpm++ or dpm++sde (default ${DEFAULT-VALUE}).") String sampler;
    @Option(names = "--sampler-steps", paramLabel = "N", description = "For --mode sample: sampler steps (default 25).") int steps = 25;

    @Option(names = "--steps", hidden = true, paramLabel = "N", description = "Old name of --sampler-steps.")
    void oldSteps(int n) {
        steps = n;
    }
    @Option(names = "--peak-gflops", defaultValue = "157", description = "fp32 peak of this machine (default ${DEFAULT-VALUE}).") double peak;
    @Option(names = "--json", description = "Print JSON only.") boolean json;
    @Option(names = "--profile", description = "For --mode train: also profile a step's forward and backward by section"
            + " (the forward mode always profiles U-DiT).") boolean profile;
    @Option(names = "--checkpoint-activations", description = "For --mode train: recompute each block in the backward"
            + " instead of keeping its activations, with AdamW updating each block within the backward, as training does.") boolean checkpointActivations;

    @Override
    public Integer call() {
        Checks.inRange("--batch", batch, 1, 65_536);
        Checks.inRange("--warmup", warmup, 0, 10_000);
        Checks.inRange("--repeats", repeats, 1, 10_000);
        Checks.inRange("--sampler-steps", steps, 1, 100_000);
        Checks.inRange("--peak-gflops", peak, 1e-3, 1e9);
        ModelConfig c = modelOptions.resolve();
        Benchmark.Mode m = switch (mode) {
            case "forward" -> Benchmark.Mode.FORWARD;
            case "train" -> Benchmark.Mode.TRAIN;
            case "sample" -> Benchmark.Mode.SAMPLE;
            default -> throw new UserError("--mode must be forward, train or sample");
        };
        if (m == Benchmark.Mode.SAMPLE) {
            try { // the sampler is checked before the model is built
                io.udit.sample.SampleRequest.builder(new long[] {0}).sampler(sampler).steps(steps).build();
            } catch (IllegalArgumentException e) {
                throw new UserError("--sampler: " + e.getMessage(), e);
            }
        }
        String name = modelOptions.model != null ? modelOptions.model : String.valueOf(modelOptions.config);
        Map<String, Object> r = Benchmark.run(name, c, new Benchmark.Settings(m, batch, warmup, repeats, sampler, steps, peak,
                profile, checkpointActivations));
        if (!json) {
            System.err.printf("%s %s batch %d: median %.3f s (%.2f images/s), %.1f GFLOP/s = %.0f%% of peak%s%n", name, mode, batch,
                    r.get("median_s"), r.get("images_per_s"), r.get("achieved_gflops"), 100 * (Double) r.get("share_of_peak"),
                    Boolean.TRUE.equals(r.get("quiet_machine")) ? "" : " (machine NOT quiet: other processes used "
                            + Math.round(100 * (Double) r.get("other_processes_cpu_share")) + "% of the CPU)");
        }
        System.out.println(Json.writePretty(r));
        return 0;
    }
}
