package io.udit.eval;

import io.udit.io.Json;
import io.udit.io.Npy;
import org.bytedeco.pytorch.Tensor;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Test resources under /io/udit/eval (made by the Python scripts stored beside them). */
final class Fixtures {
    private Fixtures() {}

    static Path path(String name) {
        URL u = Fixtures.class.getResource("/io/udit/eval/" + name);
        if (u == null) throw new IllegalStateException("missing test resource " + name);
        try {
            return Path.of(u.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Tensor npy(String name) {
        try {
            return Npy.read(path(name));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static Map<String, Object> json(String name) {
        try {
            return Json.parseObject(Files.readString(path(name)));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> obj(Map<String, Object> m, String key) {
        return (Map<String, Object>) m.get(key);
    }

    static double num(Map<String, Object> m, String key) {
        return ((Number) m.get(key)).doubleValue();
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Map<String, Object> m, String key) {
        return (List<Object>) m.get(key);
    }

    static double rel(double actual, double expected) {
        return Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300);
    }
}
