package io.udit.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Named configurations (U-DiT-S/B/L, DiT-{S,B,L,XL}/{2,4,8}) and configs from maps (parsed JSON) that accept the
 * reference constructors' own argument names and values.
 */
public final class ModelConfigs {
    private ModelConfigs() {}

    private static final Map<String, ModelConfig> NAMED = buildNamed();

    private static Map<String, ModelConfig> buildNamed() {
        Map<String, ModelConfig> m = new LinkedHashMap<>();
        m.put("U-DiT-S", UDiTConfig.named(96, 4));
        m.put("U-DiT-B", UDiTConfig.named(192, 8));
        m.put("U-DiT-L", UDiTConfig.named(384, 16));
        int[][] dit = {{12, 384, 6}, {12, 768, 12}, {24, 1024, 16}, {28, 1152, 16}};
        String[] names = {"S", "B", "L", "XL"};
        for (int i = 0; i < dit.length; i++) {
            for (int p : new int[] {2, 4, 8}) {
                m.put("DiT-" + names[i] + "/" + p, DiTConfig.named(dit[i][0], dit[i][1], dit[i][2], p));
            }
        }
        return Map.copyOf(m);
    }

    /** Valid model names, in a stable order. */
    public static List<String> names() {
        List<String> out = new ArrayList<>(List.of("U-DiT-S", "U-DiT-B", "U-DiT-L"));
        for (String s : new String[] {"S", "B", "L", "XL"}) for (int p : new int[] {2, 4, 8}) out.add("DiT-" + s + "/" + p);
        return out;
    }

    public static ModelConfig named(String name) {
        ModelConfig c = NAMED.get(name);
        if (c == null) {
            for (var e : NAMED.entrySet()) if (e.getKey().equalsIgnoreCase(name)) return e.getValue();
            throw new IllegalArgumentException("unknown model " + quote(name) + "; valid names: " + String.join(", ", names()));
        }
        return c;
    }

    private static final Set<String> UDIT_KEYS = Set.of("family", "model", "pixel_unshuffle", "input_size", "in_channels", "hidden_size",
            "num_heads", "depth", "mlp_ratio", "num_classes", "learn_sigma", "class_dropout_prob", "rep", "ffn_type",
            "attn_type", "posemb_type", "downsampler", "down_shortcut", "down_factor");
    private static final Set<String> DIT_KEYS = Set.of("family", "model", "input_size", "patch_size", "in_channels",
            "hidden_size", "depth", "num_heads", "mlp_ratio", "class_dropout_prob", "num_classes", "learn_sigma");

    /**
     * A config from a map: optional "model" (a named base), optional "family" ("udit" | "dit", inferred from
     * patch_size or the base when absent), then any of the reference constructor's arguments. Unset U-DiT fields take
     * the reference constructor's defaults (downsampler, which the reference requires, defaults to "dwconv5").
     */
    public static ModelConfig fromMap(Map<String, ?> map) {
        ModelConfig base = null;
        if (map.get("model") != null) base = named(string(map, "model"));
        String family = map.get("family") != null ? string(map, "family").toLowerCase()
                : base != null ? base.family()
                : map.containsKey("patch_size") ? "dit" : "udit";
        Set<String> allowed = switch (family) {
            case "udit", "u-dit" -> UDIT_KEYS;
            case "dit" -> DIT_KEYS;
            default -> throw new IllegalArgumentException("family must be \"udit\" or \"dit\", got " + quote(family));
        };
        Set<String> unknown = new TreeSet<>(map.keySet());
        unknown.removeAll(allowed);
        if (!unknown.isEmpty()) {
            List<String> shown = unknown.stream().limit(10).map(ModelConfigs::quote).toList();
            throw new IllegalArgumentException("unknown " + family + " config field(s): " + shown + (unknown.size() > 10 ? " and " + (unknown.size() - 10) + " more" : "")
                    + "; allowed: " + new TreeSet<>(allowed));
        }
        if (allowed == DIT_KEYS) {
            DiTConfig b = base instanceof DiTConfig d ? d : base == null ? DiTConfig.named(28, 1152, 16, 2) : null;
            if (b == null) throw new IllegalArgumentException("model '" + map.get("model") + "' is not a DiT");
            return new DiTConfig(
                    integer(map, "input_size", b.inputSize()), integer(map, "patch_size", b.patchSize()),
                    integer(map, "in_channels", b.inChannels()), integer(map, "hidden_size", b.hiddenSize()),
                    integer(map, "depth", b.depth()), integer(map, "num_heads", b.numHeads()),
                    number(map, "mlp_ratio", b.mlpRatio()), number(map, "class_dropout_prob", b.classDropoutProb()),
                    integer(map, "num_classes", b.numClasses()), bool(map, "learn_sigma", b.learnSigma()));
        }
        UDiTConfig b;
        if (base instanceof UDiTConfig u) {
            b = u;
        } else if (base == null) {
            // the reference U_DiT constructor's defaults
            b = new UDiTConfig(32, 4, 1152, 16, List.of(2, 5, 8, 5, 2), 4.0, 1000, true, 0.1,
                    UDiTConfig.FfnType.REP, UDiTConfig.AttentionType.PLAIN, UDiTConfig.PositionType.NONE, 5, false,
                    List.of(2, 2, 2, 2, 2));
        } else {
            throw new IllegalArgumentException("model '" + map.get("model") + "' is not a U-DiT");
        }
        UDiTConfig.FfnType ffn = b.ffn();
        if (map.containsKey("ffn_type") || map.containsKey("rep")) {
            String type = map.containsKey("ffn_type") ? string(map, "ffn_type") : (ffn == UDiTConfig.FfnType.BASIC ? "basic" : "rep");
            int rep = integer(map, "rep", ffn == UDiTConfig.FfnType.DWCONV ? 0 : 1);
            ffn = switch (type) {
                case "basic" -> UDiTConfig.FfnType.BASIC;
                case "dwconv" -> UDiTConfig.FfnType.DWCONV;
                case "rep" -> rep != 0 ? UDiTConfig.FfnType.REP : UDiTConfig.FfnType.DWCONV;
                default -> throw new IllegalArgumentException("ffn_type must be \"rep\", \"dwconv\" or \"basic\", got \"" + type + "\"");
            };
        }
        UDiTConfig.AttentionType attn = b.attention();
        if (map.containsKey("attn_type")) {
            Object v = map.get("attn_type");
            attn = v == null || "none".equals(v) || "plain".equals(v) ? UDiTConfig.AttentionType.PLAIN
                    : "v2".equals(v) || "cosine".equals(v) ? UDiTConfig.AttentionType.COSINE
                    : fail("attn_type must be null (plain) or \"v2\" (cosine), got " + quote(v));
        }
        UDiTConfig.PositionType pos = b.position();
        if (map.containsKey("posemb_type")) {
            Object v = map.get("posemb_type");
            pos = v == null || "none".equals(v) ? UDiTConfig.PositionType.NONE
                    : "rope2d".equals(v) ? UDiTConfig.PositionType.ROPE2D
                    : fail("posemb_type must be null or \"rope2d\", got " + quote(v));
        }
        int kernel = b.downsamplerKernel();
        if (map.containsKey("downsampler")) kernel = downsamplerKernel(map.get("downsampler"));
        List<Integer> factor = b.downFactor();
        if (map.containsKey("down_factor")) factor = fiveInts(map.get("down_factor"), "down_factor");
        List<Integer> depth = b.depth();
        if (map.containsKey("depth")) depth = fiveInts(map.get("depth"), "depth");
        return new UDiTConfig(
                integer(map, "input_size", b.inputSize()), integer(map, "in_channels", b.inChannels()),
                integer(map, "hidden_size", b.hiddenSize()), integer(map, "num_heads", b.numHeads()), depth,
                number(map, "mlp_ratio", b.mlpRatio()), integer(map, "num_classes", b.numClasses()),
                bool(map, "learn_sigma", b.learnSigma()), number(map, "class_dropout_prob", b.classDropoutProb()),
                ffn, attn, pos, kernel, bool(map, "down_shortcut", b.downShortcut()), factor,
                integer(map, "pixel_unshuffle", b.pixelUnshuffle()));
    }

    private static int downsamplerKernel(Object v) {
        if (v == null || "none".equals(v) || "unshuffle".equals(v)) return 0;
        if (v instanceof String s && s.matches("dwconv\\d{1,4}")) return Integer.parseInt(s.substring(6));
        return fail("downsampler must be \"dwconvK\" (e.g. \"dwconv5\") or \"none\", got " + quote(v));
    }

    private static List<Integer> fiveInts(Object v, String key) {
        if (v instanceof Number n) {
            int i = exactInt(n, key);
            return List.of(i, i, i, i, i);
        }
        if (v instanceof List<?> l) {
            List<Integer> out = new ArrayList<>();
            for (Object o : l) {
                if (!(o instanceof Number n)) return fail(key + " must hold integers, got " + quote(o));
                out.add(exactInt(n, key));
            }
            if (out.size() != 5) return fail(key + " must list 5 values, got " + out.size());
            return out;
        }
        return fail(key + " must be an integer or a list of 5 integers, got " + quote(v));
    }

    private static String string(Map<String, ?> m, String key) {
        Object v = m.get(key);
        if (v instanceof String s) return s;
        return fail(key + " must be a string, got " + quote(v));
    }

    private static int integer(Map<String, ?> m, String key, int dflt) {
        if (!m.containsKey(key)) return dflt;
        Object v = m.get(key);
        if (v instanceof Number n) return exactInt(n, key);
        return fail(key + " must be an integer, got " + quote(v));
    }

    private static int exactInt(Number n, String key) {
        double d = n.doubleValue();
        if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) return fail(key + " must be an integer in the int range, got " + n);
        return (int) d;
    }

    private static double number(Map<String, ?> m, String key, double dflt) {
        if (!m.containsKey(key)) return dflt;
        Object v = m.get(key);
        if (v instanceof Number n) return n.doubleValue();
        return fail(key + " must be a number, got " + quote(v));
    }

    private static boolean bool(Map<String, ?> m, String key, boolean dflt) {
        if (!m.containsKey(key)) return dflt;
        Object v = m.get(key);
        if (v instanceof Boolean b) return b;
        if (v instanceof Number n && (n.doubleValue() == 0 || n.doubleValue() == 1)) return n.doubleValue() == 1; // the reference passes 0/1
        return fail(key + " must be true/false (or 0/1), got " + quote(v));
    }

    /**
     * A bounded rendering of a config value for messages: strings (cut at 60 characters) and numbers as they are,
     * containers by kind and size only (a value read from a checkpoint can be a DAG that would take 2^40 steps to print).
     */
    static String quote(Object v) {
        if (v instanceof String s) return "\"" + (s.length() > 60 ? s.substring(0, 60) + "..." : s) + "\"";
        if (v == null || v instanceof Number || v instanceof Boolean) return String.valueOf(v);
        if (v instanceof java.util.List<?> l) return "a list of " + l.size() + " items";
        if (v instanceof Map<?, ?> m) return "a dict of " + m.size() + " entries";
        return "a " + v.getClass().getSimpleName();
    }

    private static <T> T fail(String message) {
        throw new IllegalArgumentException(message);
    }
}
