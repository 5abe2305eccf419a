package io.udit.examples;

import io.udit.api.DiffusionModel;
import io.udit.api.Udit;
import io.udit.data.SyntheticShapes;
import io.udit.io.Json;
import io.udit.model.ModelConfig;
import io.udit.model.ModelConfigs;
import io.udit.report.ImageGrid;
import io.udit.sample.Previews;
import io.udit.train.RunConfig;
import io.udit.train.RunFolder;
import io.udit.train.Trainer;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * udit as a library: train a small U-DiT on generated shapes with a progress callback, load the checkpoint it wrote,
 * and sample images as BufferedImages. Run: {@code java -cp target/udit.jar:$(cat target/runtime-classpath.txt)
 * io.udit.examples.EmbeddingExample [steps] [run-dir]}.
 */
public final class EmbeddingExample {
    public static void main(String[] args) throws Exception {
        long steps = args.length > 0 ? Long.parseLong(args[0]) : 2000;
        Path runDir = Path.of(args.length > 1 ? args[1] : "runs/embedding-example");

        // 1. a model config in the reference's own argument names, and a dataset (4 shape classes, 16x16 RGB)
        ModelConfig model = ModelConfigs.fromMap(Json.parseObject("""
                {"input_size": 16, "in_channels": 3, "hidden_size": 32, "num_heads": 2, "depth": [1, 1, 1, 1, 1],
                 "mlp_ratio": 2, "num_classes": 4, "attn_type": "v2", "posemb_type": "rope2d",
                 "downsampler": "dwconv5", "down_shortcut": 1}"""));
        // large shapes on plain backgrounds, as the demo's: legible at 16x16 after a short training
        SyntheticShapes data = SyntheticShapes.plain(0, 16, 20_000, 4, 0.70, 0.95);

        // 2. train from a config object, watching progress through a callback. A short run needs the demo's recipe
        // (docs/demo.md): with the paper's (lr 1e-4, EMA 0.9999, linear schedule) its samples stay noise
        RunConfig config = RunConfig.builder(model, "synthetic:4").resolution(16).globalBatch(64).steps(steps)
                .lr(2e-3).warmupSteps(100).gradClip(1.0).emaDecay(0.999).emaWarmup(true)
                .noiseSchedule("cosine-shift0.25").minSnrGamma(5.0).clipDenoised(true).build();
        Trainer.Result result = Udit.train(config, data, runDir, RunFolder.Start.NEW, s -> {
            if (s.step() % 50 == 0) System.out.printf("step %d/%d loss %.4f%n", s.step(), s.totalSteps(), s.loss());
        });

        // 3. load the checkpoint (its config and noise schedule travel inside) and sample one image per class
        DiffusionModel m = Udit.load(result.lastCheckpoint());
        List<BufferedImage> images = m.sampleImages(m.request(0, 1, 2, 3).sampler("dpm++sde").cfgScale(3.0).build(), null);
        Path grid = runDir.resolve("example-grid.png");
        // 16x16 images are enlarged (6x) so that the shapes can be seen
        Files.write(grid, ImageGrid.png(ImageGrid.grid(images, 4, Previews.zoomFor(images.get(0).getWidth()))));
        System.out.println("wrote " + grid.toAbsolutePath() + " (" + images.size() + " images of " + images.get(0).getWidth() + "x"
                + images.get(0).getHeight() + ", shown enlarged)");
    }
}
