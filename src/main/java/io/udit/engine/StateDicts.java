package io.udit.engine;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;

import java.util.LinkedHashMap;

/** A module's tensors by their dotted names (the state-dict keys), in registration order, sharing storage. */
public final class StateDicts {
    private StateDicts() {}

    /** Parameters, then buffers (the order of a flat {@code state_dict()} when a module has no nested buffers). */
    public static LinkedHashMap<String, Tensor> of(Module m) {
        LinkedHashMap<String, Tensor> out = parameters(m);
        out.putAll(buffers(m));
        return out;
    }

    public static LinkedHashMap<String, Tensor> parameters(Module m) {
        return byName(m.named_parameters(true));
    }

    public static LinkedHashMap<String, Tensor> buffers(Module m) {
        return byName(m.named_buffers(true));
    }

    private static LinkedHashMap<String, Tensor> byName(StringTensorDict d) {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        for (long i = 0; i < d.size(); i++) out.put(d.get(i).key().getString(), new Tensor(d.get(i).value()));
        return out;
    }
}
