package io.udit.model;

import org.bytedeco.pytorch.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A probe that times the sections of a forward pass (CPU ops run synchronously, so wall time per section is the op's
 * cost). Nested sections count in their own bucket only: the outer one is charged the rest.
 */
public final class SectionTimer implements Probe {
    private final Map<String, long[]> nanos = new LinkedHashMap<>();
    private long childNanos;

    @Override
    public void record(String name, Tensor value) {}

    @Override
    public <T> T time(String section, Supplier<T> op) {
        long outerChildren = childNanos;
        childNanos = 0;
        long t0 = System.nanoTime();
        T result = op.get();
        long spent = System.nanoTime() - t0;
        long own = spent - childNanos;
        nanos.computeIfAbsent(section, k -> new long[2])[0] += own;
        nanos.get(section)[1]++;
        childNanos = outerChildren + spent;
        return result;
    }

    /** Seconds per section (own time, nested sections excluded), in first-seen order. */
    public Map<String, Double> seconds() {
        Map<String, Double> out = new LinkedHashMap<>();
        for (var e : nanos.entrySet()) out.put(e.getKey(), e.getValue()[0] / 1e9);
        return out;
    }

    public void reset() {
        nanos.clear();
        childNanos = 0;
    }
}
