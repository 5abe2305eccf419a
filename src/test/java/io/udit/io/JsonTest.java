package io.udit.io;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.udit.io.IoTestUtil.assertFails;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

class JsonTest {
    @Test
    void parsesAllValueTypesKeepingKeyOrder() {
        Object v = Json.parse(" {\"z\": 1, \"a\": [true, false, null, -0, 2.5, 1e3, -12345678901234, 9223372036854775808],"
                + " \"s\": \"q\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\", \"o\": {}, \"l\": []}\n");
        Map<?, ?> m = assertInstanceOf(Map.class, v);
        assertEquals(List.of("z", "a", "s", "o", "l"), List.copyOf(m.keySet()));
        assertEquals(1L, m.get("z"));
        List<?> a = (List<?>) m.get("a");
        assertEquals(Arrays.asList(true, false, null, 0L, 2.5, 1000.0, -12345678901234L, 9.223372036854775808E18), a);
        assertEquals("q\"\\/\b\f\n\r\té\uD83D\uDE00", m.get("s"));
        assertEquals(Map.of(), m.get("o"));
        assertEquals(List.of(), m.get("l"));
        assertNull(Json.parse("null"));
        assertEquals("x", Json.parse("\"x\""));
    }

    @Test
    void rejectsNonStrictJson() {
        String[][] cases = {
                {"{\"a\":1,}", "expected a string key"}, {"[1,2,]", "unexpected character"}, {"{'a':1}", "expected a string key"},
                {"[01]", "leading zero"}, {"[NaN]", "unexpected character"}, {"[1.]", "digits expected"}, {"[.5]", "unexpected"},
                {"[1e]", "digits expected in exponent"}, {"\"a\nb\"", "unescaped control character"}, {"\"\\x\"", "invalid escape"},
                {"\"\\u12g4\"", "invalid \\u escape"}, {"{\"a\":1,\"a\":2}", "duplicate key \"a\""}, {"[1] [2]", "after the JSON value"},
                {"// c\n{}", "unexpected character"}, {"", "unexpected end"}, {"[1,2", "unexpected end"}, {"\"abc", "unterminated"},
                {"tru", "invalid literal"}, {"{\"a\" 1}", "expected ':'"}, {"[-]", "invalid number"},
        };
        for (String[] c : cases) assertFails(Json.ParseException.class, () -> Json.parse(c[0]), c[1]);
        assertFails(Json.ParseException.class, () -> Json.parse("[".repeat(300) + "]".repeat(300)), "nested deeper than 256");
        assertFails(Json.ParseException.class, () -> Json.parse("[[[1]]]", 2, 100), "nested deeper than 2");
        assertFails(Json.ParseException.class, () -> Json.parse("[1, 2, 3]", 10, 5), "exceeds the limit of 5");
        Json.ParseException e = assertFails(Json.ParseException.class, () -> Json.parse("[1, x]"), "at offset 4");
        assertEquals(4, e.offset());
    }

    @Test
    void writesWhatItParses() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "tab\tquote\"back\\slash\u0001 é ✓ \uD83D\uDE00");
        m.put("n", List.of(1L, -2, 3.5, 1e-7, 1e300, 2.0f));
        m.put("b", true);
        m.put("nil", null);
        m.put("nested", Map.of("k", List.of()));
        String text = Json.write(m);
        Object back = Json.parse(text);
        Map<?, ?> b = (Map<?, ?>) back;
        assertEquals(m.get("s"), b.get("s"));
        assertEquals(List.of(1L, -2L, 3.5, 1e-7, 1e300, 2.0), b.get("n"));
        assertEquals(true, b.get("b"));
        assertNull(b.get("nil"));
        assertEquals(Json.parse(text), Json.parse(Json.writePretty(m)));
        assertFails(IllegalArgumentException.class, () -> Json.write(List.of(Double.NaN)), "NaN");
        assertFails(IllegalArgumentException.class, () -> Json.write(Map.of(1, 2)), "keys must be strings");
    }
}
