package io.udit.testing;

import io.udit.engine.Tensors;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads ../shared/fixtures/udit-tiny: manifest entries (name, file, shape, dtype, group) and the raw tensors.
 * The manifest is JSON; we only need the flat "tensors" list, parsed with a small regex over each entry.
 */
public final class Fixture {
    public record Entry(String name, Path file, long[] shape, String dtype, String group) {}

    private final Path root;
    private final Map<String, Entry> entries = new LinkedHashMap<>();

    private Fixture(Path root) {
        this.root = root;
        try {
            String json = Files.readString(root.resolve("manifest.json"));
            Pattern p = Pattern.compile("\\{\\s*\"name\":\\s*\"([^\"]+)\",\\s*\"file\":\\s*\"([^\"]+)\",\\s*\"shape\":\\s*\\[([^\\]]*)\\],\\s*"
                    + "\"dtype\":\\s*\"([^\"]+)\",\\s*\"group\":\\s*\"([^\"]+)\"\\s*\\}");
            Matcher m = p.matcher(json);
            while (m.find()) {
                String dims = m.group(3).trim();
                long[] shape = dims.isEmpty() ? new long[0]
                        : java.util.Arrays.stream(dims.split(",")).map(String::trim).mapToLong(Long::parseLong).toArray();
                entries.put(m.group(1), new Entry(m.group(1), root.resolve(m.group(2)), shape, m.group(4), m.group(5)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (entries.isEmpty()) throw new IllegalStateException("no tensors parsed from " + root.resolve("manifest.json"));
    }

    /** The udit-tiny fixture, found from the project root (tests run with the project root as working dir). */
    public static Fixture tiny() {
        Path p = Path.of("..", "shared", "fixtures", "udit-tiny").toAbsolutePath().normalize();
        if (!Files.isRegularFile(p.resolve("manifest.json"))) {
            throw new IllegalStateException("fixture not found at " + p);
        }
        return new Fixture(p);
    }

    public Path root() {
        return root;
    }

    public Path manifest() {
        return root.resolve("manifest.json");
    }

    public Path checkpoint() {
        return root.resolve("tiny_udit.pt");
    }

    public Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) throw new IllegalArgumentException("no fixture tensor " + name);
        return e;
    }

    public List<Entry> group(String group) {
        List<Entry> out = new ArrayList<>();
        for (Entry e : entries.values()) if (e.group().equals(group)) out.add(e);
        return out;
    }

    public List<Entry> withPrefix(String prefix) {
        List<Entry> out = new ArrayList<>();
        for (Entry e : entries.values()) if (e.name().startsWith(prefix)) out.add(e);
        return out;
    }

    public Tensor tensor(String name) {
        Entry e = entry(name);
        try {
            byte[] bytes = Files.readAllBytes(e.file());
            ScalarType type = switch (e.dtype()) {
                case "float32" -> ScalarType.Float;
                case "float64" -> ScalarType.Double;
                case "int64" -> ScalarType.Long;
                default -> throw new IllegalArgumentException("dtype " + e.dtype());
            };
            return Tensors.fromBytes(bytes, type, e.shape());
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }
}
