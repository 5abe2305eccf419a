package io.udit.cli;

import io.udit.data.LatentFolder;
import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.io.AtomicFiles;
import io.udit.io.Npy;
import io.udit.io.Npz;
import io.udit.vae.Vae;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** Decodes scaled latents (an .npy/.npz array or a feature folder) to a PNG grid and an ADM-style .npz. */
@Command(name = "decode", mixinStandardHelpOptions = true,
        description = "Decode scaled VAE latents (N, 4, h, w) from an .npy / .npz (arr_0) file or a latent feature folder "
                + "(udit encode's output) into grid.png and images.npz (arr_0 uint8 NHWC, arr_1 labels when known).",
        footer = {"", "Examples:", "  udit decode --latents features --vae sd-vae-ft-ema --limit 16",
                "  udit decode --latents z.npy --vae sd-vae-ft-ema --out-dir decoded-z --tile 32"})
public final class DecodeCommand implements Callable<Integer> {
    @Option(names = "--latents", required = true, paramLabel = "FILE|DIR", description = "The latents: .npy, .npz or a feature folder.")
    Path latents;

    // no defaultValue: picocli would apply it after the hidden --out alias below had set the folder
    @Option(names = "--out-dir", paramLabel = "DIR", description = "Output folder for grid.png and images.npz (default decoded).")
    Path out = Path.of("decoded");

    @Option(names = "--out", hidden = true, paramLabel = "DIR", description = "Old name of --out-dir.")
    void out(Path dir) {
        out = dir;
    }

    @Option(names = "--limit", defaultValue = "64", paramLabel = "N", description = "At most this many latents from a feature folder (default ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--per-row", defaultValue = "8", paramLabel = "N", description = "Grid columns (default ${DEFAULT-VALUE}).")
    int perRow;

    @Mixin
    DecodeOptions decodeOptions;

    @Override
    public Integer call() throws Exception {
        Checks.inRange("--limit", limit, 1, 1_000_000);
        Checks.inRange("--per-row", perRow, 1, 1024);
        decodeOptions.check();
        if (!Files.isDirectory(latents)) Checks.regularFile("--latents", latents);
        io.udit.engine.FileKinds.requireFolderOrMissing(out, "--out-dir");
        Engine.init();
        if (decodeOptions.vae == null) throw new UserError("decode needs --vae DIR");
        Vae vae = decodeOptions.loadVae();
        Tensor z;
        long[] labels = null;
        if (Files.isDirectory(latents)) {
            LatentFolder f = LatentFolder.open(latents, 0, false);
            int n = Math.min(limit, f.size()), size = f.sampleSize();
            float[] all = new float[n * size], one = new float[size];
            labels = new long[n];
            for (int i = 0; i < n; i++) {
                labels[i] = f.read(i, one, null);
                System.arraycopy(one, 0, all, i * size, size);
            }
            z = Tensors.floats(all, n, f.channels(), f.resolution(), f.resolution());
        } else {
            String name = latents.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
            if (name.endsWith(".npz")) {
                Map<String, Tensor> a = Npz.read(latents);
                z = a.containsKey("arr_0") ? a.get("arr_0") : a.size() == 1 ? a.values().iterator().next() : null;
                if (z == null) throw new UserError(latents + ": no arr_0 among its " + a.size() + " arrays " + a.keySet().stream().limit(10).toList());
            } else {
                z = Npy.read(latents);
            }
            if (z.dim() == 3 && z.size(0) == vae.config().latentChannels()) z = z.unsqueeze(0);
        }
        vae.checkLatents(z, latents.toString());
        Files.createDirectories(out);
        long t0 = System.nanoTime();
        Tensor images = decodeOptions.decodeToUint8(vae, z.to(ScalarType.Float), latents.toString());
        Path grid = out.resolve("grid.png");
        AtomicFiles.write(grid, io.udit.report.ImageGrid.png(io.udit.sample.Previews.gridOfUint8(images, perRow,
                io.udit.sample.Previews.zoomFor((int) images.size(1)))));
        Map<String, Tensor> arrays = new LinkedHashMap<>();
        arrays.put("arr_0", images);
        if (labels != null) arrays.put("arr_1", Tensors.longs(labels, labels.length));
        Path npz = out.resolve("images.npz");
        Npz.write(npz, arrays);
        System.out.printf("decoded %d latents %s to %s and %s in %.1f s%n", z.size(0), Tensors.shapeString(z), grid.toAbsolutePath(), npz.toAbsolutePath(),
                (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
