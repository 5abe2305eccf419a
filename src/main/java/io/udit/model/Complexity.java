package io.udit.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Parameter and multiply-accumulate counts per image, computed from the configuration, counted as the paper counts
 * them (torchprofile): every conv and linear MAC (biases not counted), both attention matmuls, and one MAC per
 * output element of every elementwise multiplication (modulate and gate products, the RoPE rotation, the attention
 * logit scale, timestep frequencies).
 *
 * @param paramsTrained      parameters as trained (state-dict numel)
 * @param paramsFolded       parameters after folding the rep FFN (the inference form)
 * @param macsFolded         conv/linear/attention MACs of the inference graph
 * @param macsTrain          conv/linear/attention MACs of the training graph (FFN unfolded)
 * @param elementwise        elementwise multiplications (identical in both graphs)
 */
public record Complexity(long paramsTrained, long paramsFolded, long macsFolded, long macsTrain, long elementwise) {

    /** The published "GFLOPs" figure: inference-graph MACs plus elementwise products, in G. */
    public double gmacsFolded() {
        return (macsFolded + elementwise) / 1e9;
    }

    /** Training-graph MACs (conv, linear, attention) in G, the convention of spec §5b (7.13 G for U-DiT-S). */
    public double gmacsTrain() {
        return macsTrain / 1e9;
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("params_trained", paramsTrained);
        m.put("params_folded", paramsFolded);
        m.put("gmacs_folded", round2(gmacsFolded()));
        m.put("gmacs_train", round2(gmacsTrain()));
        m.put("macs_folded", macsFolded + elementwise);
        m.put("macs_folded_conv_linear_attention", macsFolded);
        m.put("macs_train_conv_linear_attention", macsTrain);
        m.put("macs_elementwise", elementwise);
        return m;
    }

    private static double round2(double v) {
        return Math.round(v * 100.0) / 100.0;
    }

    public static Complexity of(ModelConfig c) {
        if (c instanceof UDiTConfig u) return udit(u);
        return dit((DiTConfig) c);
    }

    static Complexity udit(UDiTConfig c) {
        long d = c.hiddenSize(), in = c.gridInChannels(), r = c.gridSize(); // the network's grid (pixel_unshuffle)
        long params = 0, shared = 0, elem = 0; // shared: every MAC outside the FFNs
        long labelRows = c.numClasses() + (c.hasNullClass() ? 1 : 0);

        long xe = conv(in, d, 3) + d;
        params += xe;
        shared += r * r * in * d * 9;
        for (int i = 0; i < 3; i++) {
            long w = d << i;
            params += linear(TimestepEmbedder.FREQUENCY_SIZE, w) + linear(w, w) + labelRows * w;
            shared += (long) TimestepEmbedder.FREQUENCY_SIZE * w + w * w;
            elem += TimestepEmbedder.FREQUENCY_SIZE; // 128 frequency-table products + 128 t * f
        }
        long ffnTrainedSum = 0, ffnFoldedSum = 0, ffnMacsTrain = 0, ffnMacsFolded = 0;
        for (int level = 0; level < 5; level++) {
            long w = c.width(level), res = c.resolution(level), hw = res * res, f = c.downFactor().get(level);
            long n = hw / (f * f), hid = c.ffnHidden((int) w), k = c.downsamplerKernel();
            long layers = 2L * c.depth().get(level);
            long attnParams = linear(w, 3 * w) + conv(w, w, 1) + w
                    + (c.attention() == UDiTConfig.AttentionType.COSINE ? c.numHeads() : 0)
                    + (k > 0 ? w * k * k + w : 0);
            long ada = linear(w, 6 * w);
            long attnMacs = w * 6 * w + (k > 0 ? hw * w * k * k : 0) + hw * w * 3 * w + 2 * f * f * n * n * w + hw * w * w;
            long ffnTrained, ffnFolded, fMacsT, fMacsF;
            switch (c.ffn()) {
                case REP -> {
                    long h2 = hid / 2;
                    ffnTrained = (w * h2 + h2) + (h2 * hid + hid) + (25 * hid + hid) + (9 * hid + hid) + (hid + hid)
                            + (hid * h2 + h2) + (h2 * w + w);
                    ffnFolded = (w * hid + hid) + (25 * hid + hid) + (hid * w + w);
                    fMacsT = hw * (w * h2 + h2 * hid + 35 * hid + hid * h2 + h2 * w);
                    fMacsF = hw * (w * hid + 25 * hid + hid * w);
                }
                case DWCONV -> {
                    ffnTrained = ffnFolded = (w * hid + hid) + (25 * hid + hid) + (hid * w + w);
                    fMacsT = fMacsF = hw * (w * hid + 25 * hid + hid * w);
                }
                default -> {
                    ffnTrained = ffnFolded = (w * hid + hid) + (hid * w + w);
                    fMacsT = fMacsF = hw * 2 * w * hid;
                }
            }
            params += layers * (attnParams + ada);
            ffnTrainedSum += layers * ffnTrained;
            ffnFoldedSum += layers * ffnFolded;
            shared += layers * attnMacs;
            ffnMacsTrain += layers * fMacsT;
            ffnMacsFolded += layers * fMacsF;
            long rope = c.position() == UDiTConfig.PositionType.ROPE2D ? hw * w : 0; // q and k, one per complex element
            elem += layers * (4 * hw * w + rope + f * f * c.numHeads() * n * n);
        }
        // resolution changes, skip fusions, output conv, final layer
        long[][] convs = { // {resolution, in, out, kernel}
                {r, d, d / 2, 3}, {r / 2, 2 * d, d, 3}, {r / 4, 4 * d, 8 * d, 3}, {r / 2, 4 * d, 2 * d, 1},
                {r / 2, 2 * d, 4 * d, 3}, {r, 2 * d, 2 * d, 1}, {r, 2 * d, 2 * d, 3}, {r, 2 * d, c.gridOutChannels(), 3}};
        boolean[] bias = {false, false, false, true, false, true, true, true};
        for (int i = 0; i < convs.length; i++) {
            long[] v = convs[i];
            params += conv(v[1], v[2], v[3]) + (bias[i] ? v[2] : 0);
            shared += v[0] * v[0] * v[1] * v[2] * v[3] * v[3];
        }
        params += linear(2 * d, 4 * d);
        shared += 2 * d * 4 * d;
        elem += r * r * 2 * d;
        return new Complexity(params + ffnTrainedSum, params + ffnFoldedSum, shared + ffnMacsFolded,
                shared + ffnMacsTrain, elem);
    }

    /**
     * MACs of the rep-FFN weight folds that a training forward of this batch runs (two weight products, hidden x
     * hidden/2 by hidden/2 x width, per FFN on the levels where RepFeedForward folds its 1x1 pairs); 0 for other FFNs.
     */
    public static long uditFoldMacsPerStep(UDiTConfig c, int batch) {
        if (c.ffn() != UDiTConfig.FfnType.REP) return 0;
        long total = 0;
        for (int level = 0; level < 5; level++) {
            long w = c.width(level), hid = c.ffnHidden((int) w), res = c.resolution(level);
            if (RepFeedForward.foldSavesWork(batch * res * res, w, hid)) total += 2L * c.depth().get(level) * hid * hid * w;
        }
        return total;
    }

    /**
     * Inference-graph MACs per image by forward-pass section (the names SectionTimer uses), for judging each section's
     * speed against its own ceiling. U-DiT only; elementwise sections have no MACs.
     */
    public static Map<String, Long> uditSectionMacs(UDiTConfig c) {
        Map<String, Long> m = new LinkedHashMap<>();
        long d = c.hiddenSize(), r = c.gridSize();
        for (int level = 0; level < 5; level++) {
            long w = c.width(level), res = c.resolution(level), hw = res * res, f = c.downFactor().get(level);
            long n = hw / (f * f), hid = c.ffnHidden((int) w), k = c.downsamplerKernel(), layers = 2L * c.depth().get(level);
            m.merge("adaLN linear", layers * w * 6 * w, Long::sum);
            if (k > 0) m.merge("attn depthwise (downsampler)", layers * hw * w * k * k, Long::sum);
            m.merge("attn qkv linear", layers * hw * w * 3 * w, Long::sum);
            m.merge("attn sdpa", layers * 2 * f * f * n * n * w, Long::sum);
            m.merge("attn out conv1x1", layers * hw * w * w, Long::sum);
            m.merge("ffn conv1x1", layers * 2 * hw * w * hid, Long::sum);
            if (c.ffn() != UDiTConfig.FfnType.BASIC) m.merge("ffn depthwise", layers * hw * hid * 25, Long::sum);
        }
        long[][] convs = {{r, c.gridInChannels(), d, 3}, {r, d, d / 2, 3}, {r / 2, 2 * d, d, 3}, {r / 4, 4 * d, 8 * d, 3},
                {r / 2, 4 * d, 2 * d, 1}, {r / 2, 2 * d, 4 * d, 3}, {r, 2 * d, 2 * d, 1}, {r, 2 * d, 2 * d, 3}, {r, 2 * d, c.gridOutChannels(), 3}};
        long total = 0;
        for (long[] v : convs) total += v[0] * v[0] * v[1] * v[2] * v[3] * v[3];
        m.put("embed + resample + output convs", total + 2 * d * 4 * d);
        return m;
    }

    static Complexity dit(DiTConfig c) {
        long d = c.hiddenSize(), p = c.patchSize(), t = c.tokens(), hid = c.mlpHidden();
        long labelRows = c.numClasses() + (c.hasNullClass() ? 1 : 0);
        long params = t * d // pos_embed (a frozen parameter in the state dict)
                + conv(c.inChannels(), d, (int) p) + d
                + linear(TimestepEmbedder.FREQUENCY_SIZE, d) + linear(d, d) + labelRows * d;
        long macs = t * d * c.inChannels() * p * p + (long) TimestepEmbedder.FREQUENCY_SIZE * d + d * d;
        long elem = TimestepEmbedder.FREQUENCY_SIZE;
        long block = linear(d, 3 * d) + linear(d, d) + linear(d, hid) + linear(hid, d) + linear(d, 6 * d);
        params += c.depth() * block;
        macs += c.depth() * (d * 6 * d + t * d * 3 * d + 2 * t * t * d + t * d * d + 2 * t * d * hid);
        elem += c.depth() * 5 * t * d; // 2 modulate, 2 gate, q * scale
        long out = p * p * c.outChannels();
        params += linear(d, 2 * d) + linear(d, out);
        macs += d * 2 * d + t * d * out;
        elem += t * d;
        return new Complexity(params, params, macs, macs, elem);
    }

    private static long conv(long in, long out, long k) {
        return in * out * k * k;
    }

    private static long linear(long in, long out) {
        return in * out + out;
    }
}
