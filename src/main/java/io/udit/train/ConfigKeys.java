package io.udit.train;

import java.util.Collection;
import java.util.Map;

/**
 * Typed reads of JSON config values with messages that name the key, and the unknown-key check that suggests the
 * nearest valid key.
 */
public final class ConfigKeys {
    private ConfigKeys() {}

    /** Fails on the first key of {@code map} that is not in {@code known}, naming the nearest known key. */
    public static void checkKnown(Map<?, ?> map, Collection<String> known, String prefix) {
        for (Object k : map.keySet()) {
            String key = String.valueOf(k);
            if (!known.contains(key)) {
                throw new IllegalArgumentException("unknown key '" + prefix + shorten(key) + "'; did you mean '" + prefix
                        + nearest(key, known) + "'? (valid keys: " + String.join(", ", known) + ")");
            }
        }
    }

    private static String shorten(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }

    /**
     * The candidate nearest to {@code key} (ties: the first): a candidate made of the key's initials
     * ({@code learning_rate} -> {@code lr}) or containing the key ({@code batch_size} -> {@code global_batch_size})
     * comes first, then the smallest edit distance.
     */
    public static String nearest(String key, Collection<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        String k = (key.length() > 200 ? key.substring(0, 200) : key).toLowerCase(java.util.Locale.ROOT).replace('-', '_');
        StringBuilder initials = new StringBuilder();
        for (String w : k.split("_")) if (!w.isEmpty()) initials.append(w.charAt(0));
        for (String c : candidates) {
            int d = c.equals(initials.toString()) || (k.length() > 2 && c.contains(k)) ? -1 : editDistance(k, c);
            if (d < bestDistance) {
                bestDistance = d;
                best = c;
            }
        }
        return best;
    }

    public static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    private static IllegalArgumentException wrongType(String prefix, String key, String type) {
        return new IllegalArgumentException(prefix + key + ": must be " + type);
    }

    public static String string(Map<?, ?> m, String key, String dflt, String prefix) {
        Object v = m.get(key);
        if (v == null) return dflt;
        if (!(v instanceof String s)) throw wrongType(prefix, key, "a string");
        return s;
    }

    public static String optString(Map<?, ?> m, String key, String prefix) {
        return string(m, key, null, prefix);
    }

    public static boolean bool(Map<?, ?> m, String key, boolean dflt, String prefix) {
        Boolean b = optBool(m, key, prefix);
        return b == null ? dflt : b;
    }

    public static Boolean optBool(Map<?, ?> m, String key, String prefix) {
        Object v = m.get(key);
        if (v == null) return null;
        if (!(v instanceof Boolean b)) throw wrongType(prefix, key, "true or false");
        return b;
    }

    public static double dbl(Map<?, ?> m, String key, double dflt, String prefix) {
        Double d = optDouble(m, key, prefix);
        return d == null ? dflt : d;
    }

    public static Double optDouble(Map<?, ?> m, String key, String prefix) {
        Object v = m.get(key);
        if (v == null) return null;
        if (!(v instanceof Number n)) throw wrongType(prefix, key, "a number");
        double d = n.doubleValue();
        if (!Double.isFinite(d)) throw wrongType(prefix, key, "a finite number");
        return d;
    }

    public static long lng(Map<?, ?> m, String key, long dflt, String prefix) {
        Object v = m.get(key);
        if (v == null) return dflt;
        Long exact = exactLong(v);
        if (exact != null) return exact;
        if (v instanceof java.math.BigInteger) throw wrongType(prefix, key, "a whole number below 2^63");
        throw wrongType(prefix, key, "a whole number");
    }

    /**
     * A JSON number as the long it names exactly: an integer literal that fits, or a whole number written otherwise
     * (2.0, 1e3) below 2^53, where a double still holds every whole number; null for anything else.
     */
    public static Long exactLong(Object v) {
        if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) return ((Number) v).longValue();
        if (v instanceof Number n && !(v instanceof java.math.BigInteger) && n.doubleValue() == Math.rint(n.doubleValue())
                && Math.abs(n.doubleValue()) < 0x1p53) {
            return (long) n.doubleValue();
        }
        return null;
    }

    public static int integer(Map<?, ?> m, String key, int dflt, String prefix) {
        Integer i = optInt(m, key, prefix);
        return i == null ? dflt : i;
    }

    public static Integer optInt(Map<?, ?> m, String key, String prefix) {
        if (m.get(key) == null) return null;
        long v = lng(m, key, 0, prefix);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) throw wrongType(prefix, key, "a whole number below 2^31");
        return (int) v;
    }
}
