package io.udit.eval;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.io.Npz;
import io.udit.io.WeightFiles;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The FID Inception network with deterministic "formula" weights, against an independent float64 computation by
 * torchvision's Inception3 + pytorch-fid's patched blocks (resources/io/udit/eval/inception, made by
 * make_inception_fixtures.py, whose docstring gives the formula).
 */
public class FidInceptionV3Test {
    @TempDir
    static Path tmp;
    static FidInceptionV3 net;
    static Path weights;
    static Map<String, Tensor> blocks;

    /** The formula state dict of make_inception_fixtures.py, plus num_batches_tracked entries like torchvision's. */
    public static LinkedHashMap<String, Tensor> formulaStateDict(boolean withBatchCounters) {
        FidInceptionV3 shapes = new FidInceptionV3();
        Map<String, Tensor> own = shapes.stateDict();
        List<String> keys = new ArrayList<>(own.keySet());
        keys.sort(null);
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        for (int k = 0; k < keys.size(); k++) {
            String key = keys.get(k);
            long[] shape = Tensors.shape(own.get(key));
            int n = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
            float[] v = new float[n];
            for (int j = 0; j < n; j++) {
                double s = Math.sin(0.61 * j + 1.7 * k + 0.3);
                double x;
                if (key.endsWith("conv.weight")) x = s * Math.sqrt(4.0 / (shape[1] * shape[2] * shape[3]));
                else if (key.endsWith("bn.weight")) x = 1 + 0.2 * s;
                else if (key.endsWith("bn.bias") || key.endsWith("running_mean") || key.equals("fc.bias")) x = 0.1 * s;
                else if (key.endsWith("running_var")) x = 1 + 0.25 * (s + 1);
                else if (key.equals("fc.weight")) x = s / Math.sqrt(2048);
                else throw new IllegalStateException(key);
                v[j] = (float) x;
            }
            out.put(key, Tensors.floats(v, shape));
            if (withBatchCounters && key.endsWith(".bn.running_var")) {
                out.put(key.replace("running_var", "num_batches_tracked"), Tensors.longs(new long[] {0}));
            }
        }
        return out;
    }

    static Tensor blockInput(int c, int s) {
        float[] v = new float[c * s * s];
        for (int j = 0; j < v.length; j++) v[j] = (float) Math.sin(0.37 * j + 0.5);
        return Tensors.floats(v, 1, c, s, s);
    }

    @BeforeAll
    static void load() throws Exception {
        Engine.init();
        weights = tmp.resolve(FidInceptionV3.WEIGHTS_FILE_NAME);
        WeightFiles.writeStateDict(weights, formulaStateDict(true));
        net = FidInceptionV3.load(weights);
        blocks = Npz.read(Fixtures.path("inception/blocks_expected.npz"));
    }

    @Test
    void keysAreExactlyPytorchFids() {
        Map<String, Object> j = Fixtures.json("inception/keys.json");
        LinkedHashMap<String, List<Long>> reference = new LinkedHashMap<>();
        for (Object o : Fixtures.list(j, "keys")) {
            List<?> kv = (List<?>) o;
            List<Long> shape = new ArrayList<>();
            for (Object d : (List<?>) kv.get(1)) shape.add(((Number) d).longValue());
            reference.put((String) kv.get(0), shape);
        }
        LinkedHashMap<String, List<Long>> ours = new LinkedHashMap<>();
        for (var e : new FidInceptionV3().stateDict().entrySet()) {
            List<Long> shape = new ArrayList<>();
            for (long d : Tensors.shape(e.getValue())) shape.add(d);
            ours.put(e.getKey(), shape);
        }
        reference.keySet().removeIf(k -> k.endsWith(".num_batches_tracked"));
        assertEquals(reference.size(), ours.size());
        assertEquals(reference, ours);
        assertEquals(new ArrayList<>(reference.keySet()), new ArrayList<>(ours.keySet()), "same order as torchvision");
    }

    @Test
    void aGeneratedStateDictLoadsWithoutRenaming() throws Exception {
        // with num_batches_tracked (torchvision >= 0.4) as loaded in load(), and without (older files)
        Path plain = tmp.resolve("plain.pth");
        WeightFiles.writeStateDict(plain, formulaStateDict(false));
        FidInceptionV3 other = FidInceptionV3.load(plain);
        Tensor a = net.stateDict().get("Mixed_7c.branch_pool.conv.weight");
        Tensor b = other.stateDict().get("Mixed_7c.branch_pool.conv.weight");
        assertEquals(0.0, Tensors.maxAbsDiff(a, b));
        assertTrue(Tensors.maxAbsDiff(a, Tensors.zeros(ScalarType.Float, 1)) > 0.01);
    }

    @Test
    void weightsOfAnotherNetworkAreAClearError() throws Exception {
        Path cnn = tmp.resolve("smallcnn.pth");
        WeightFiles.writeStateDict(cnn, new SmallCnn(3, 32, 10).stateDict());
        EvalException e = assertThrows(EvalException.class, () -> FidInceptionV3.load(cnn));
        assertTrue(e.getMessage().contains("is not the FID Inception-v3") && e.getMessage().contains("none of its")
                && e.getMessage().contains("unexpected keys") && e.getMessage().contains("stem.conv.weight"), e.getMessage());
        // one tensor of the wrong shape is named
        LinkedHashMap<String, Tensor> sd = formulaStateDict(false);
        sd.put("fc.weight", Tensors.zeros(ScalarType.Float, 1000, 2048));
        sd.remove("Mixed_5b.branch1x1.bn.bias");
        EvalException e2 = assertThrows(EvalException.class, () -> new FidInceptionV3().loadStateDict(sd));
        assertTrue(e2.getMessage().contains("fc.weight [1000, 2048] (expected [1008, 2048])")
                && e2.getMessage().contains("missing keys (1): Mixed_5b.branch1x1.bn.bias"), e2.getMessage());
    }

    @Test
    void eachBlockTypeHasTheReferenceOutputShape() {
        try (PointerScope s = new PointerScope(); InferenceMode g = new InferenceMode()) {
            check(net.mixed5b.forward(Tensors.zeros(ScalarType.Float, 1, 192, 35, 35)), 1, 256, 35, 35);
            check(net.mixed5d.forward(Tensors.zeros(ScalarType.Float, 1, 288, 35, 35)), 1, 288, 35, 35);
            check(net.mixed6a.forward(Tensors.zeros(ScalarType.Float, 1, 288, 35, 35)), 1, 768, 17, 17);
            check(net.mixed6e.forward(Tensors.zeros(ScalarType.Float, 1, 768, 17, 17)), 1, 768, 17, 17);
            check(net.mixed7a.forward(Tensors.zeros(ScalarType.Float, 1, 768, 17, 17)), 1, 1280, 8, 8);
            check(net.mixed7b.forward(Tensors.zeros(ScalarType.Float, 1, 1280, 8, 8)), 1, 2048, 8, 8);
            check(net.mixed7c.forward(Tensors.zeros(ScalarType.Float, 1, 2048, 8, 8)), 1, 2048, 8, 8);
            check(net.conv1a.forward(Tensors.zeros(ScalarType.Float, 1, 3, 299, 299)), 1, 32, 149, 149);
            FidInceptionV3.Features f = net.forward(Tensors.zeros(ScalarType.Byte, 3, 64, 64, 3));
            check(f.pool3(), 3, 2048);
            check(f.spatial(), 3, 2023);
            check(f.logits(), 3, 1008);
        }
    }

    private static void check(Tensor t, long... shape) {
        assertArrayEquals(shape, Tensors.shape(t));
    }

    @Test
    void blocksMatchTheTorchvisionComputation() {
        try (PointerScope s = new PointerScope(); InferenceMode g = new InferenceMode()) {
            Object[][] cases = {
                {"Mixed_5b", net.mixed5b, 192, 5}, {"Mixed_6a", net.mixed6a, 288, 7}, {"Mixed_6b", net.mixed6b, 768, 5},
                {"Mixed_7a", net.mixed7a, 768, 7}, {"Mixed_7b", net.mixed7b, 1280, 5}, {"Mixed_7c", net.mixed7c, 2048, 5},
            };
            for (Object[] c : cases) {
                Tensor out = ((FidInceptionV3.Block) c[1]).forward(blockInput((Integer) c[2], (Integer) c[3]));
                Tensor expected = blocks.get(c[0]);
                assertArrayEquals(Tensors.shape(expected), Tensors.shape(out), (String) c[0]);
                double err = Tensors.relativeError(out, expected);
                System.out.printf("%s vs torchvision+pytorch-fid (float64): relative error %.2e%n", c[0], err);
                assertTrue(err < 1e-5, c[0] + " relative error " + err);
            }
            Tensor in = blockInput(3, 9);
            double folded = Tensors.relativeError(net.conv1a.forward(in), blocks.get("Conv2d_1a_3x3"));
            double unfolded = Tensors.relativeError(net.conv1a.forwardUnfolded(in), blocks.get("Conv2d_1a_3x3"));
            assertTrue(folded < 1e-6 && unfolded < 1e-6, folded + " " + unfolded);
        }
    }

    @Test
    void fullNetworkMatchesTheTorchvisionComputation() throws Exception {
        Map<String, Tensor> e = Npz.read(Fixtures.path("inception/full_expected.npz"));
        try (PointerScope s = new PointerScope(); InferenceMode g = new InferenceMode()) {
            FidInceptionV3.Features f = net.forward(Fixtures.npy("inception/images.npy"));
            for (String name : List.of("pool3", "spatial", "logits")) {
                Tensor actual = switch (name) {
                    case "pool3" -> f.pool3();
                    case "spatial" -> f.spatial();
                    default -> f.logits();
                };
                double err = Tensors.relativeError(actual, e.get(name));
                System.out.printf("full network %s vs torchvision+pytorch-fid (float64): relative error %.2e%n", name, err);
                assertTrue(err < 1e-5, name + " relative error " + err);
            }
            net.setChannelsLast(false);
            try {
                FidInceptionV3.Features nchw = net.forward(Fixtures.npy("inception/images.npy"));
                assertTrue(Tensors.relativeError(nchw.pool3(), e.get("pool3")) < 1e-5);
                assertTrue(Tensors.relativeError(nchw.spatial(), e.get("spatial")) < 1e-5);
            } finally {
                net.setChannelsLast(true);
            }
        }
    }
}
