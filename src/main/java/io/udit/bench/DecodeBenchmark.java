package io.udit.bench;

import io.udit.engine.Engine;
import io.udit.vae.AutoencoderKLConfig;
import io.udit.vae.Vae;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.List;

/**
 * Decoding time and memory: {@code java ... io.udit.bench.DecodeBenchmark [sd|small] BATCH ROUNDS [DECODE_BATCH]} decodes
 * ROUNDS batches of BATCH random 32x32x4 latents (small: 16x16x4) with a random-weight VAE of the released
 * architecture, printing per-round time, RSS, the machine's other CPU use, and the peak RSS. {@code sd-encode BATCH
 * ROUNDS} times encoding BATCH random 256x256 images instead.
 */
public final class DecodeBenchmark {
    private DecodeBenchmark() {}

    public static void main(String[] args) {
        int threads = Engine.init();
        boolean encode = args.length > 0 && args[0].equals("sd-encode");
        boolean sd = args.length < 1 || args[0].startsWith("sd");
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int decodeBatch = args.length > 3 ? Integer.parseInt(args[3]) : batch;
        AutoencoderKLConfig c = sd ? AutoencoderKLConfig.sdVae() : AutoencoderKLConfig.small(List.of(32, 64), 1, 8, 32);
        int side = sd ? 32 : 16;
        long rss0 = Rss.current();
        Vae vae = Vae.random(c, 1);
        long rssModel = Rss.current();
        System.out.printf("%s, %d threads (%s); model %d parameters; RSS %.0f MB before, %.0f MB with the model%n", vae.describe(),
                threads, Engine.threadSettings(), vae.model().parameterCount(), rss0 / 1e6, rssModel / 1e6);
        System.out.printf("estimated decode activations per latent: %.0f MB; decode batch %d%n",
                vae.decodeBytesPerLatent(side, side) / 1e6, decodeBatch);
        Vae.DecodeOptions o = Vae.DecodeOptions.defaults().withBatch(decodeBatch);
        double total = 0;
        for (int r = 0; r < rounds; r++) {
            try (PointerScope s = new PointerScope()) {
                if (encode) {
                    Tensor x = torch.rand(new long[] {batch, 3, 256, 256}, new GeneratorOptional(torch.make_generator_cpu(r)),
                            new org.bytedeco.pytorch.TensorOptions(torch.ScalarType.Float)).mul(new org.bytedeco.pytorch.Scalar(2))
                            .sub(new org.bytedeco.pytorch.Scalar(1));
                    long[] seeds = new long[batch];
                    for (int i = 0; i < batch; i++) seeds[i] = i;
                    CpuUsage cpu = CpuUsage.start();
                    long t0 = System.nanoTime();
                    Tensor lat = vae.encode(x, seeds);
                    double secs = (System.nanoTime() - t0) / 1e9;
                    if (r > 0 || rounds == 1) total += secs;
                    System.out.printf("encode round %d: %d images in %.2f s (%.2f s/image), out %s, RSS %.0f MB, peak %.0f MB, "
                                    + "other processes used %.0f%% of the CPUs, we used %.0f%%%n", r, batch, secs, secs / batch,
                            io.udit.engine.Tensors.shapeString(lat), Rss.current() / 1e6, Rss.peak() / 1e6,
                            100 * cpu.otherShare(), 100 * cpu.selfShare());
                    continue;
                }
                Tensor z = torch.randn(new long[] {batch, 4, side, side}, new GeneratorOptional(torch.make_generator_cpu(r)),
                        new org.bytedeco.pytorch.TensorOptions(torch.ScalarType.Float));
                CpuUsage cpu = CpuUsage.start();
                long t0 = System.nanoTime();
                Tensor img = vae.decode(z, o, Vae.Progress.NONE);
                double secs = (System.nanoTime() - t0) / 1e9;
                if (r > 0 || rounds == 1) total += secs;
                System.out.printf("round %d: %d latents in %.2f s (%.2f s/latent), out %s, RSS %.0f MB, peak %.0f MB, "
                                + "other processes used %.0f%% of the CPUs, we used %.0f%%%n", r, batch, secs, secs / batch,
                        io.udit.engine.Tensors.shapeString(img), Rss.current() / 1e6, Rss.peak() / 1e6,
                        100 * cpu.otherShare(), 100 * cpu.selfShare());
            }
        }
        int timed = rounds > 1 ? rounds - 1 : 1;
        System.out.printf("mean over %d timed rounds: %.2f s per batch of %d; peak RSS %.0f MB (model alone %.0f MB)%n", timed,
                total / timed, batch, Rss.peak() / 1e6, rssModel / 1e6);
    }
}
