package io.udit.model;

import io.udit.engine.NativeScopes;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.WeakIValue;

import java.util.ArrayList;
import java.util.List;

/**
 * Keeps Java gradient hooks reachable for as long as the autograd graph that calls them can still run backward.
 * libtorch holds a hook written in Java (a JavaCPP callback) only weakly: once the JVM collects it, the backward that
 * should call it fails. So every hook a forward pass registers is kept here together with a probe, a tensor that the
 * graph itself holds (a saved tensor of the node the hook belongs to) and that is referenced here only weakly. When
 * nothing holds the probe any more, the graph has run its backward (which frees saved tensors) or has been dropped,
 * the hook can no longer be called, and it is let go. A probe that is also referenced from Java (a handle the hook
 * keeps, a tensor in an open PointerScope) lives until that handle is freed, so such hooks go later, not sooner.
 */
final class HookKeeper {
    private HookKeeper() {}

    private record Held(Object hook, WeakIValue probe) {}

    private static final List<Held> HELD = new ArrayList<>();
    private static int purgeAt = 64; // let go of dead entries whenever the list grows past this

    /** Keeps {@code hook} reachable while something (the graph, normally) still holds {@code probe}. */
    static void keep(Object hook, Tensor probe) {
        IValue strong = new IValue(probe);
        WeakIValue weak = NativeScopes.escape(new WeakIValue(strong)); // freed here when let go, not by a scope
        strong.deallocate(); // the only strong reference this class ever made
        synchronized (HELD) {
            HELD.add(new Held(hook, weak));
            if (HELD.size() >= purgeAt) {
                purge();
                purgeAt = Math.max(64, 2 * HELD.size());
            }
        }
    }

    /** How many hooks are kept now, after letting go of those whose graph is gone. */
    static int size() {
        synchronized (HELD) {
            purge();
            return HELD.size();
        }
    }

    private static void purge() {
        HELD.removeIf(h -> {
            if (h.probe.use_count() > 0) return false;
            h.probe.deallocate();
            return true;
        });
    }
}
