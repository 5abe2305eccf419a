package io.udit.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON (RFC 8259) parser and writer. Parses to {@code LinkedHashMap<String,Object>} (key order kept),
 * {@code ArrayList<Object>}, {@code String}, {@code Long} (integers that fit 64 bits), {@code Double} (everything
 * else), {@code Boolean} and {@code null}. Strict: no comments, trailing commas, NaN, leading zeros, unescaped control
 * characters, duplicate keys or trailing content. Nesting depth and input length are limited.
 */
public final class Json {
    private Json() {}

    public static final int DEFAULT_MAX_DEPTH = 256;
    public static final int DEFAULT_MAX_LENGTH = 64 << 20;

    /** Malformed or over-limit JSON; {@link #offset()} is the character position of the problem. */
    public static final class ParseException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final int offset;

        ParseException(String message, int offset) {
            super(message + " at offset " + offset);
            this.offset = offset;
        }

        public int offset() {
            return offset;
        }
    }

    public static Object parse(String text) {
        return parse(text, DEFAULT_MAX_DEPTH, DEFAULT_MAX_LENGTH);
    }

    public static Object parse(String text, int maxDepth, int maxLength) {
        if (text == null) throw new IllegalArgumentException("null JSON text");
        if (text.length() > maxLength) {
            throw new ParseException("JSON text of " + text.length() + " characters exceeds the limit of " + maxLength, 0);
        }
        Parser p = new Parser(text, maxDepth);
        p.ws();
        Object v = p.value(0);
        p.ws();
        if (p.i != text.length()) throw new ParseException("unexpected content after the JSON value", p.i);
        return v;
    }

    /** Parses and requires a JSON object. */
    @SuppressWarnings("unchecked")
    public static LinkedHashMap<String, Object> parseObject(String text) {
        Object v = parse(text);
        if (!(v instanceof LinkedHashMap)) throw new ParseException("expected a JSON object", 0);
        return (LinkedHashMap<String, Object>) v;
    }

    private static final class Parser {
        final String s;
        final int maxDepth;
        int i;

        Parser(String s, int maxDepth) {
            this.s = s;
            this.maxDepth = maxDepth;
        }

        void ws() {
            while (i < s.length()) {
                char c = s.charAt(i);
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') i++;
                else break;
            }
        }

        ParseException err(String m) {
            return new ParseException(m, i);
        }

        Object value(int depth) {
            if (i >= s.length()) throw err("unexpected end of JSON");
            char c = s.charAt(i);
            switch (c) {
                case '{':
                    return object(depth + 1);
                case '[':
                    return array(depth + 1);
                case '"':
                    return string();
                case 't':
                    literal("true");
                    return Boolean.TRUE;
                case 'f':
                    literal("false");
                    return Boolean.FALSE;
                case 'n':
                    literal("null");
                    return null;
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) return number();
                    throw err("unexpected character '" + NativeIO.printable(String.valueOf(c)) + "'");
            }
        }

        void literal(String word) {
            if (!s.startsWith(word, i)) throw err("invalid literal");
            i += word.length();
        }

        Map<String, Object> object(int depth) {
            if (depth > maxDepth) throw err("JSON nested deeper than " + maxDepth);
            i++;
            LinkedHashMap<String, Object> m = new LinkedHashMap<>();
            ws();
            if (i < s.length() && s.charAt(i) == '}') {
                i++;
                return m;
            }
            while (true) {
                ws();
                if (i >= s.length() || s.charAt(i) != '"') throw err("expected a string key");
                int keyAt = i;
                String k = string();
                ws();
                if (i >= s.length() || s.charAt(i) != ':') throw err("expected ':'");
                i++;
                ws();
                Object v = value(depth);
                if (m.containsKey(k)) throw new ParseException("duplicate key \"" + NativeIO.printable(k) + "\"", keyAt);
                m.put(k, v);
                ws();
                if (i >= s.length()) throw err("unexpected end of JSON in object");
                char c = s.charAt(i++);
                if (c == '}') return m;
                if (c != ',') {
                    i--;
                    throw err("expected ',' or '}'");
                }
            }
        }

        List<Object> array(int depth) {
            if (depth > maxDepth) throw err("JSON nested deeper than " + maxDepth);
            i++;
            ArrayList<Object> a = new ArrayList<>();
            ws();
            if (i < s.length() && s.charAt(i) == ']') {
                i++;
                return a;
            }
            while (true) {
                ws();
                a.add(value(depth));
                ws();
                if (i >= s.length()) throw err("unexpected end of JSON in array");
                char c = s.charAt(i++);
                if (c == ']') return a;
                if (c != ',') {
                    i--;
                    throw err("expected ',' or ']'");
                }
            }
        }

        String string() {
            i++; // opening quote
            StringBuilder b = null;
            int runStart = i;
            while (true) {
                if (i >= s.length()) throw err("unterminated string");
                char c = s.charAt(i);
                if (c == '"') {
                    String out = b == null ? s.substring(runStart, i) : b.append(s, runStart, i).toString();
                    i++;
                    return out;
                }
                if (c < 0x20) throw err("unescaped control character in string");
                if (c != '\\') {
                    i++;
                    continue;
                }
                if (b == null) b = new StringBuilder();
                b.append(s, runStart, i);
                i++;
                if (i >= s.length()) throw err("unterminated escape");
                char e = s.charAt(i++);
                switch (e) {
                    case '"' -> b.append('"');
                    case '\\' -> b.append('\\');
                    case '/' -> b.append('/');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'u' -> {
                        if (i + 4 > s.length()) throw err("truncated \\u escape");
                        int cp = 0;
                        for (int k = 0; k < 4; k++) {
                            char x = s.charAt(i + k);
                            // ASCII hex digits only (Character.digit also takes other scripts' digits)
                            int h = x < 0x80 ? Character.digit(x, 16) : -1;
                            if (h < 0) throw err("invalid \\u escape");
                            cp = cp * 16 + h;
                        }
                        i += 4;
                        b.append((char) cp);
                    }
                    default -> {
                        i--;
                        throw err("invalid escape '\\" + NativeIO.printable(String.valueOf(e)) + "'");
                    }
                }
                runStart = i;
            }
        }

        Object number() {
            int start = i;
            if (s.charAt(i) == '-') i++;
            if (i >= s.length()) throw err("truncated number");
            char c = s.charAt(i);
            if (c == '0') {
                i++;
                if (i < s.length() && Character.isDigit(s.charAt(i))) throw err("leading zero in number");
            } else if (c >= '1' && c <= '9') {
                while (i < s.length() && isDigit(s.charAt(i))) i++;
            } else {
                throw err("invalid number");
            }
            boolean integral = true;
            if (i < s.length() && s.charAt(i) == '.') {
                integral = false;
                i++;
                int d = i;
                while (i < s.length() && isDigit(s.charAt(i))) i++;
                if (i == d) throw err("digits expected after '.'");
            }
            if (i < s.length() && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
                integral = false;
                i++;
                if (i < s.length() && (s.charAt(i) == '+' || s.charAt(i) == '-')) i++;
                int d = i;
                while (i < s.length() && isDigit(s.charAt(i))) i++;
                if (i == d) throw err("digits expected in exponent");
            }
            String t = s.substring(start, i);
            if (integral) {
                try {
                    return Long.parseLong(t);
                } catch (NumberFormatException overflow) {
                    // falls through to a double
                }
            }
            if (t.length() > 400) throw new ParseException("number literal too long", start);
            double d = Double.parseDouble(t);
            // 1e999 would become Infinity, which JSON (and so our writer) cannot hold
            if (Double.isInfinite(d)) throw new ParseException("number " + t + " is out of the range of a double", start);
            return d;
        }

        static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }
    }

    /** Compact JSON for Map (String keys), Iterable, String, Number, Boolean, null. */
    public static String write(Object value) {
        StringBuilder b = new StringBuilder();
        write(b, value, -1, 0);
        return b.toString();
    }

    /** Indented JSON (two spaces). */
    public static String writePretty(Object value) {
        StringBuilder b = new StringBuilder();
        write(b, value, 2, 0);
        return b.toString();
    }

    private static void newline(StringBuilder b, int indent, int level) {
        if (indent < 0) return;
        b.append('\n');
        for (int k = 0; k < indent * level; k++) b.append(' ');
    }

    private static void write(StringBuilder b, Object v, int indent, int level) {
        if (level > DEFAULT_MAX_DEPTH) throw new IllegalArgumentException("value nested deeper than " + DEFAULT_MAX_DEPTH);
        if (v == null) {
            b.append("null");
        } else if (v instanceof String str) {
            quote(b, str);
        } else if (v instanceof Boolean bo) {
            b.append(bo.booleanValue());
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) throw new IllegalArgumentException("JSON cannot hold " + d);
            if (d == 0 && 1 / d < 0) b.append("-0.0"); // (long) -0.0 would lose the sign
            else if (d == Math.rint(d) && Math.abs(d) < 1e15) b.append((long) d).append(".0");
            else b.append(d);
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte
                || v instanceof java.math.BigInteger) {
            b.append(v);
        } else if (v instanceof java.math.BigDecimal bd) {
            b.append(bd.toString());
        } else if (v instanceof Map<?, ?> m) {
            b.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getKey() instanceof String k)) throw new IllegalArgumentException("JSON object keys must be strings: " + e.getKey());
                if (!first) b.append(',');
                first = false;
                newline(b, indent, level + 1);
                quote(b, k);
                b.append(indent < 0 ? ":" : ": ");
                write(b, e.getValue(), indent, level + 1);
            }
            if (!first) newline(b, indent, level);
            b.append('}');
        } else if (v instanceof Iterable<?> it) {
            b.append('[');
            boolean first = true;
            for (Object o : it) {
                if (!first) b.append(',');
                first = false;
                newline(b, indent, level + 1);
                write(b, o, indent, level + 1);
            }
            if (!first) newline(b, indent, level);
            b.append(']');
        } else if (v instanceof long[] arr) {
            List<Long> l = new ArrayList<>();
            for (long x : arr) l.add(x);
            write(b, l, indent, level);
        } else {
            throw new IllegalArgumentException("cannot write " + v.getClass().getName() + " as JSON");
        }
    }

    private static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20 || c == 0x7f || Character.isSurrogate(c) && !validSurrogate(s, k)) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }

    private static boolean validSurrogate(String s, int k) {
        char c = s.charAt(k);
        if (Character.isHighSurrogate(c)) return k + 1 < s.length() && Character.isLowSurrogate(s.charAt(k + 1));
        return k > 0 && Character.isHighSurrogate(s.charAt(k - 1));
    }
}
