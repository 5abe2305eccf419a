package io.udit.transport;

import io.udit.engine.Tensors;
import io.udit.io.Json;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads ../shared/fixtures/sit-transport: its manifest (parsed as JSON) and the raw float64 tensors. */
final class SitFixture {
    record Entry(String name, Path file, long[] shape, String group) {}

    final Map<String, Object> manifest;
    final Map<String, Entry> entries = new LinkedHashMap<>();

    private SitFixture(Path root) {
        try {
            manifest = Json.parseObject(Files.readString(root.resolve("manifest.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (Object o : list(manifest.get("tensors"))) {
            Map<String, Object> e = map(o);
            if (!"float64".equals(e.get("dtype"))) throw new IllegalStateException("not float64: " + e.get("name"));
            long[] shape = list(e.get("shape")).stream().mapToLong(v -> (Long) v).toArray();
            String name = (String) e.get("name");
            entries.put(name, new Entry(name, root.resolve((String) e.get("file")), shape, (String) e.get("group")));
        }
    }

    /** The fixture, found from the project root (tests run with the project root as working directory). */
    static SitFixture load() {
        Path p = Path.of("..", "shared", "fixtures", "sit-transport").toAbsolutePath().normalize();
        if (!Files.isRegularFile(p.resolve("manifest.json"))) throw new IllegalStateException("fixture not found at " + p);
        return new SitFixture(p);
    }

    Tensor tensor(String name) {
        Entry e = entries.get(name);
        if (e == null) throw new IllegalArgumentException("no fixture tensor " + name);
        try {
            return Tensors.fromBytes(Files.readAllBytes(e.file()), ScalarType.Double, e.shape());
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    /** The manifest's run records of a sampler section ("sde" or "ode"). */
    List<Map<String, Object>> runs(String section) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object o : list(map(manifest.get(section)).get("runs"))) out.add(map(o));
        return out;
    }

    List<String> nonfinite() {
        List<String> out = new ArrayList<>();
        for (Object o : list(map(manifest.get("checks")).get("nonfinite_tensors"))) out.add((String) o);
        return out;
    }

    static double number(Object o) {
        return ((Number) o).doubleValue();
    }

    static double[] numbers(Object o) {
        return list(o).stream().mapToDouble(SitFixture::number).toArray();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        return (List<Object>) o;
    }
}
