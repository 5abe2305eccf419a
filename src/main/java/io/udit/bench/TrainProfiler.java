package io.udit.bench;

import io.udit.engine.NativeScopes;
import io.udit.model.Probe;
import io.udit.model.RepFeedForward;
import io.udit.model.SectionTimer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorBase;
import org.bytedeco.pytorch.VoidTensorHook;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Times a training step's forward by profile section (as SectionTimer does) and its backward on a timeline: every
 * section output gets a gradient hook, which libtorch runs just before the backward of the op that produced the
 * output. The autograd engine runs a CPU backward on the calling thread in reverse creation order, so the time
 * from one hook to the next is the backward of the section whose hook opened it (plus the glue ops that follow it).
 * The time before the first hook (loss and anything after the last section) and after the last one (leaf gradients
 * still pending) is charged to "other". A hook that a layer registers on its own output runs before the profiler's
 * hook on that output, so its time counts for the section before: DepthwiseConv's kernel gradients show under the
 * section that consumes the depthwise output (the FFN's 1x1 convolution, the attention's rearrangement).
 */
final class TrainProfiler implements Probe {
    static final String OTHER = "other (loss, glue, gradient accumulation)";

    private final SectionTimer forward = new SectionTimer();
    private final Map<String, Double> backward = new LinkedHashMap<>();
    private final List<VoidTensorHook> hooks = new ArrayList<>(); // alive until the backward has run
    private final List<String> sections = new ArrayList<>();
    private final List<Long> stamps = new ArrayList<>();

    @Override
    public void record(String name, Tensor value) {}

    @Override
    public <T> T time(String section, Supplier<T> op) {
        T out = forward.time(section, op);
        if (out instanceof Tensor t) {
            mark(section, t);
        } else if (out instanceof Tensor[] ts) {
            for (Tensor t : ts) mark(section, t);
        } else if (out instanceof RepFeedForward.Folded f) {
            for (Tensor t : f.tensors()) mark(section, t);
        }
        return out;
    }

    private void mark(String section, Tensor t) {
        if (!t.requires_grad()) return;
        // kept past the forward's inner native scopes (see NativeScopes.scoped) until the backward has run
        VoidTensorHook h = NativeScopes.escape(new VoidTensorHook() {
            @Override
            public void call(TensorBase grad) {
                sections.add(section);
                stamps.add(System.nanoTime());
            }
        });
        hooks.add(h);
        t.register_hook(h);
    }

    /** Runs one backward and charges its time to the sections; returns the backward's wall time in seconds. */
    double backward(Runnable backwardPass) {
        sections.clear();
        stamps.clear();
        long t0 = System.nanoTime();
        backwardPass.run();
        long t1 = System.nanoTime();
        long prev = t0;
        String open = OTHER;
        for (int i = 0; i < stamps.size(); i++) {
            backward.merge(open, (stamps.get(i) - prev) / 1e9, Double::sum);
            open = sections.get(i);
            prev = stamps.get(i);
        }
        backward.merge(open, (t1 - prev) / 1e9, Double::sum);
        hooks.clear();
        return (t1 - t0) / 1e9;
    }

    /** Forward seconds per section (own time), summed over the profiled steps; "total" is the unsectioned rest. */
    Map<String, Double> forwardSeconds() {
        return forward.seconds();
    }

    /** Backward seconds per section, summed over the profiled steps. */
    Map<String, Double> backwardSeconds() {
        return backward;
    }

    <T> T timeTotal(Supplier<T> op) {
        return forward.time("total", op);
    }
}
