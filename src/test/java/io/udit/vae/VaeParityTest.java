package io.udit.vae;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.io.Npz;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The architecture against an independently written key list, and a random-weight VAE against plain-torch float64
 * computations (src/test/resources/io/udit/vae/make_fixtures.py; README.md there records the errors).
 */
class VaeParityTest {
    static final Path RES = Path.of("src/test/resources/io/udit/vae");
    /** max abs error / max(1, max |expected|), as README.md there promises. */
    static final double BOUND = 1e-5;

    @BeforeAll
    static void init() {
        Engine.init();
    }

    static List<String[]> keyList(String file) throws Exception {
        List<String[]> out = new ArrayList<>();
        for (String line : Files.readAllLines(RES.resolve(file))) {
            if (line.startsWith("#") || line.isBlank()) continue;
            out.add(line.split("\t"));
        }
        return out;
    }

    static String shape(long[] s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length; i++) b.append(i == 0 ? "" : ",").append(s[i]);
        return b.toString();
    }

    @Test
    void releasedArchitectureHasTheReleasedKeysAndShapesInBothNamings() throws Exception {
        AutoencoderKL m = new AutoencoderKL(AutoencoderKLConfig.sdVae());
        LinkedHashMap<String, long[]> own = m.shapes();
        List<String[]> current = keyList("sd-vae-ft-ema.keys.tsv"), legacy = keyList("sd-vae-ft-ema.legacy-keys.tsv");
        assertEquals(248, current.size());
        List<String> ownLines = new ArrayList<>(), expected = new ArrayList<>(), ownLegacy = new ArrayList<>(), expectedLegacy = new ArrayList<>();
        for (var e : own.entrySet()) {
            ownLines.add(e.getKey() + "\t" + shape(e.getValue()));
            ownLegacy.add(VaeWeights.toLegacy(e.getKey()) + "\t" + shape(e.getValue()));
        }
        for (String[] l : current) expected.add(l[0] + "\t" + l[1]);
        for (String[] l : legacy) expectedLegacy.add(l[0] + "\t" + l[1]);
        assertEquals(expected, ownLines, "keys, shapes and order of state_dict()");
        assertEquals(expectedLegacy, ownLegacy, "legacy naming");
        assertEquals(83_653_863L, m.parameterCount());
        for (String[] l : legacy) assertTrue(own.containsKey(VaeWeights.toCurrent(l[0])), l[0]);

        // a state dict in either naming (and with 1x1-conv attention weights) loads; a damaged one names every bad key
        LinkedHashMap<String, Tensor> sd = m.stateDict();
        assertEquals(VaeWeights.Naming.CURRENT, VaeWeights.load(m, sd, "current"));
        LinkedHashMap<String, Tensor> old = VaeWeights.renamed(sd, VaeWeights.Naming.LEGACY);
        old.replaceAll((k, v) -> k.contains("attentions") && v.dim() == 2 ? v.reshape(v.size(0), v.size(1), 1, 1) : v);
        assertEquals(VaeWeights.Naming.LEGACY, VaeWeights.load(m, old, "legacy"));
        LinkedHashMap<String, Tensor> bad = new LinkedHashMap<>(sd);
        bad.remove("decoder.conv_out.bias");
        bad.put("encoder.conv_in.weight", torch.zeros(64, 3, 3, 3));
        bad.put("decoder.extra.weight", torch.zeros(1));
        bad.put("encoder.mid_block.attentions.0.query.weight", sd.get("encoder.mid_block.attentions.0.to_q.weight"));
        VaeException e = org.junit.jupiter.api.Assertions.assertThrows(VaeException.class, () -> VaeWeights.load(m, bad, "bad.safetensors"));
        for (String s : new String[] {"missing keys (1): decoder.conv_out.bias", "unexpected keys (1): decoder.extra.weight",
                "encoder.conv_in.weight (file [64, 3, 3, 3], model [128, 3, 3, 3])",
                "encoder.mid_block.attentions.0.to_q.weight and encoder.mid_block.attentions.0.query.weight"})
            assertTrue(e.getMessage().contains(s), e.getMessage());
    }

    static double maxAbs(Tensor t) {
        return t.abs().max().item_double();
    }

    /** max |actual - expected| / max(1, max |expected|). */
    static double err(String what, Tensor actual, Tensor expected) {
        assertEquals(Tensors.shapeString(expected), Tensors.shapeString(actual), what);
        double d = Tensors.maxAbsDiff(actual, expected), scale = Math.max(1, maxAbs(expected));
        System.out.printf("parity %-18s max abs err %.3g (max |expected| %.4g), relative L2 %.3g%n", what, d, maxAbs(expected),
                Tensors.relativeError(actual, expected));
        return d / scale;
    }

    @Test
    void randomWeightVaeMatchesPlainTorch() throws Exception {
        Vae vae = Vae.load(RES.resolve("tiny-vae"));
        assertTrue(vae.describe().contains("legacy attention names"), vae.describe());
        AutoencoderKL m = vae.model();
        Map<String, Tensor> p = Npz.read(RES.resolve("parity.npz"));
        try (PointerScope s = new PointerScope(); InferenceMode g = new InferenceMode()) {
            for (boolean channelsLast : new boolean[] {false, true}) {
                Tensor x = p.get("resnet_in"), a = p.get("attn_in");
                if (channelsLast) {
                    x = x.contiguous(torch.MemoryFormat.ChannelsLast);
                    a = a.contiguous(torch.MemoryFormat.ChannelsLast);
                }
                assertTrue(err("resnet block", m.encoder.downBlocks[1].resnets[0].forward(x), p.get("resnet_out")) < BOUND);
                assertTrue(err("mid attention", m.encoder.mid.attention.forward(a), p.get("attn_out")) < BOUND);
            }
            DiagonalGaussian post = DiagonalGaussian.of(p.get("moments_in"));
            assertTrue(err("posterior mean", post.mean(), p.get("posterior_mean")) < 1e-6);
            // err() is already relative to max |expected| (2.2e4 here): the bound is the README's 1e-5, not rescaled
            assertTrue(err("posterior std", post.std(), p.get("posterior_std")) < BOUND);
            assertTrue(err("posterior sample", post.sample(p.get("moments_eps")), p.get("posterior_sample")) < BOUND);
            // and the bound does catch a 1e-4 relative error in a tensor of that scale
            Tensor offStd = p.get("posterior_std").mul(new org.bytedeco.pytorch.Scalar(1 + 1e-4));
            assertTrue(err("posterior std x (1 + 1e-4)", post.std(), offStd) > BOUND);
            Tensor moments = m.moments(p.get("image"));
            assertTrue(err("encoder moments", moments, p.get("enc_moments")) < BOUND);
            Tensor sample = DiagonalGaussian.of(moments).sample(p.get("enc_eps"));
            assertTrue(err("encoded sample", sample, p.get("enc_sample")) < BOUND);
            assertTrue(err("decoder", m.decode(p.get("enc_sample")), p.get("decoded")) < BOUND);
        }
        // the facade: scaled latents in and out
        Tensor imgs = p.get("image");
        Tensor z = vae.encode(imgs, new long[] {1, 2});
        Tensor z2 = vae.encode(imgs.narrow(0, 1, 1), new long[] {2});
        assertEquals(0.0, Tensors.maxAbsDiff(z.narrow(0, 1, 1), z2), 1e-6, "a latent does not depend on its batch");
        Tensor dec = vae.decode(p.get("enc_sample").mul(new org.bytedeco.pytorch.Scalar(0.18215)), Vae.DecodeOptions.defaults(), Vae.Progress.NONE);
        assertTrue(err("decode(0.18215 z)", dec, p.get("decoded")) < BOUND);
        assertTrue(Arrays.equals(new long[] {2, 4, 8, 12}, Tensors.shape(z)));
    }

    @Test
    void halfPrecisionSafetensorsInTheLegacyNamingLoad(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Vae ref = Vae.load(RES.resolve("tiny-vae"));
        LinkedHashMap<String, Tensor> half = new LinkedHashMap<>();
        for (var e : VaeWeights.renamed(ref.model().stateDict(), VaeWeights.Naming.LEGACY).entrySet())
            half.put(e.getKey(), e.getValue().to(torch.ScalarType.Half));
        Files.createDirectories(tmp);
        Files.copy(RES.resolve("tiny-vae/config.json"), tmp.resolve("config.json"));
        io.udit.io.Safetensors.write(tmp.resolve(VaeFolder.SAFETENSORS), half, null);
        Vae v = Vae.load(tmp);
        Map<String, Tensor> p = Npz.read(RES.resolve("parity.npz"));
        Tensor a = ref.moments(p.get("image")), b = v.moments(p.get("image"));
        double rel = Tensors.relativeError(b, a);
        assertTrue(rel < 5e-3, "fp16 weights give nearly the same moments, relative error " + rel);
        assertTrue(rel > 0, "the weights were rounded to fp16");
    }
}
