package io.udit.vae;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.bench.Rss;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Batched and tiled decoding, and flat memory over many decodes. */
class VaeDecodeTest {
    @BeforeAll
    static void init() {
        Engine.init();
    }

    static Tensor randn(long seed, long... shape) {
        return torch.randn(shape, new GeneratorOptional(torch.make_generator_cpu(seed)), new TensorOptions(torch.ScalarType.Float));
    }

    @Test
    void tileLayout() {
        assertEquals(List.of(0L), Vae.origins(8, 8, 2));
        assertEquals(List.of(0L, 6L, 12L, 16L), Vae.origins(24, 8, 2));
        assertEquals(List.of(0L, 4L), Vae.origins(12, 8, 4));
        float[] r = Vae.ramp(16, 4, true, false);
        assertEquals(0.125f, r[0], 1e-6);
        assertEquals(1f, r[4], 0);
        assertEquals(1f, r[15], 0);
        // along an axis the weights of overlapping tiles sum to a positive value everywhere
        int f = 2, tile = 8, overlap = 2;
        List<Long> o = Vae.origins(24, tile, overlap);
        float[] sum = new float[24 * f];
        for (int i = 0; i < o.size(); i++) {
            float[] w = Vae.ramp(tile * f, overlap * f, i > 0, i < o.size() - 1);
            for (int p = 0; p < w.length; p++) sum[(int) (o.get(i) * f) + p] += w[p];
        }
        for (float s : sum) assertTrue(s > 0.2f && s <= 2f, java.util.Arrays.toString(sum));
    }

    @Test
    void tileBlendingReproducesALocalDecoder() {
        // with a decoder whose output at a pixel depends only on the latent under it, the weighted mean of the tiles
        // must equal decoding the whole latent: this checks tile placement and weight normalisation exactly
        try (PointerScope s = new PointerScope()) {
            Tensor z = randn(4, 3, 4, 19, 30);
            java.util.function.UnaryOperator<Tensor> local = t -> torch.upsample_nearest2d(t.narrow(1, 0, 3).tanh(), 2 * t.size(2), 2 * t.size(3));
            Tensor whole = local.apply(z);
            for (int[] to : new int[][] {{8, 2}, {8, 0}, {6, 5}, {16, 4}}) {
                Tensor out = torch.empty(3, 3, 38, 60);
                Vae.decodeTiled(z, out, 2, to[0], to[1], 2, local, Vae.Progress.NONE);
                assertTrue(Tensors.maxAbsDiff(out, whole) < 1e-6, "tile " + to[0] + " overlap " + to[1]);
            }
        }
    }

    @Test
    void batchingAndTilingAgreeWithOneCall() {
        Vae vae = Vae.random(VaeTestData.smallConfig(), 11);
        try (PointerScope s = new PointerScope()) {
            Tensor z = randn(1, 5, 4, 16, 16);
            Tensor whole = vae.decode(z, Vae.DecodeOptions.defaults().withBatch(5).withTile(0, 0), Vae.Progress.NONE);
            Tensor batched = vae.decode(z, Vae.DecodeOptions.defaults().withBatch(2), Vae.Progress.NONE);
            assertEquals("[5, 3, 32, 32]", Tensors.shapeString(whole));
            assertTrue(Tensors.maxAbsDiff(whole, batched) < 1e-5, "batch size does not change the images");
            Tensor u8 = vae.decodeToUint8(z, new Vae.DecodeOptions(2, 0, -1, 1 << 20), Vae.Progress.NONE); // chunks of 2
            assertEquals("[5, 32, 32, 3]", Tensors.shapeString(u8));
            assertTrue(Tensors.maxAbsDiff(u8, io.udit.sample.Sampling.toUint8Nhwc(whole)) <= 1, "uint8 in chunks = uint8 of the whole");
            Tensor oneTile = vae.decode(z, Vae.DecodeOptions.defaults().withTile(16, 4), Vae.Progress.NONE);
            assertTrue(Tensors.maxAbsDiff(whole, oneTile) < 1e-5, "a latent no larger than a tile is decoded whole");

            // a large latent in tiles: right shape, finite, close to the whole decode away from tile statistics
            Tensor big = randn(2, 2, 4, 24, 40);
            Tensor full = vae.decode(big, Vae.DecodeOptions.defaults().withTile(0, 0), Vae.Progress.NONE);
            int[] calls = {0};
            Tensor tiled = vae.decode(big, Vae.DecodeOptions.defaults().withTile(12, 4), (d, t) -> calls[0]++);
            assertEquals("[2, 3, 48, 80]", Tensors.shapeString(tiled));
            assertEquals(3 * 5, calls[0], "tile rows at 0, 8, 12; columns at 0, 8, 16, 24, 28");
            assertTrue(torch.isfinite(tiled).all().item_bool());
            double rel = Tensors.relativeError(tiled, full);
            System.out.printf("tiled (12, overlap 4) vs whole decode of 24x40 latents: relative L2 %.3g, max abs %.3g%n", rel,
                    Tensors.maxAbsDiff(tiled, full));
            assertTrue(rel < 0.5, "tiled decode is a blend of local decodes, got relative error " + rel);
            // a budget too small for one latent switches tiling on by itself
            Tensor auto = vae.decode(big, new Vae.DecodeOptions(0, -1, -1, 1 << 20), Vae.Progress.NONE);
            assertEquals("[2, 3, 48, 80]", Tensors.shapeString(auto));
        }
    }

    @Test
    void rssStaysFlatOver256Decodes() {
        Vae vae = Vae.random(VaeTestData.smallConfig(), 5);
        Vae.DecodeOptions o = Vae.DecodeOptions.defaults();
        long[] rss = new long[257];
        for (int i = 0; i < 256; i++) {
            try (PointerScope s = new PointerScope()) {
                Tensor img = vae.decode(randn(i, 1, 4, 16, 16), o, Vae.Progress.NONE);
                assertEquals(3, img.size(1));
            }
            rss[i + 1] = Rss.current();
        }
        // and once more: 256 latents in one call, decoded 8 at a time
        try (PointerScope s = new PointerScope()) {
            vae.decode(randn(9, 256, 4, 16, 16), o.withBatch(8), Vae.Progress.NONE);
        }
        long end = Rss.current();
        // Rss answers -1 when /proc is unreadable: then there is nothing to compare, and the test must say so
        for (int i = 1; i <= 256; i++) assertTrue(rss[i] > 0, "RSS unavailable after decode " + i + " (" + rss[i] + ")");
        assertTrue(end > 0, "RSS unavailable after the batched decode (" + end + ")");
        double early = rss[32] / 1e6, late = rss[256] / 1e6;
        System.out.printf("decode RSS after 32 latents %.1f MB, after 256 %.1f MB, after 256 more in one call %.1f MB (peak %.1f MB)%n",
                early, late, end / 1e6, Rss.peak() / 1e6);
        assertTrue(late <= early * 1.02 + 8, "RSS grew from " + early + " to " + late + " MB");
        assertTrue(end / 1e6 <= early * 1.02 + 24, "RSS grew to " + end / 1e6 + " MB");
    }
}
