package io.udit.train;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

import java.util.List;
import java.util.function.Consumer;

/**
 * AdamW applied block by block inside a checkpointed backward (the sink of Backbone.setBlockGradientSink): each
 * block's parameters are updated as soon as their gradients are complete, and those gradients are dropped, so a
 * step never holds the whole network's gradients at once (docs/performance.md has the memory this saves). The update
 * of each parameter is the one {@link FusedAdamW#step} makes; what changes is only when it runs.
 *
 * <p>The gradient norm is summed as the blocks arrive. A block whose gradients are not finite is left as it is and
 * so is everything after it, so no non-finite gradient reaches a weight; the caller sees {@link #finite()} false and
 * stops. Blocks updated before that keep their update, so a step that could be skipped instead of stopping (skip
 * mode), gradient clipping (which needs the norm of all gradients first), accumulation over micro-batches and
 * gradient averaging over ranks all need the whole-network update at the end of the backward.
 */
public final class BlockwiseAdamW implements Consumer<List<Tensor>> {
    private final FusedAdamW optimizer;
    private double normSquared;
    private boolean finite = true;

    public BlockwiseAdamW(FusedAdamW optimizer) {
        this.optimizer = optimizer;
    }

    /** Starts a step. */
    public void begin() {
        normSquared = 0;
        finite = true;
    }

    @Override
    public void accept(List<Tensor> blockParameters) {
        if (!finite) return;
        double sq = 0;
        try (PointerScope scope = new PointerScope()) {
            for (Tensor p : blockParameters) {
                Tensor g = p.grad();
                if (!g.defined()) continue;
                double n = g.norm().item_double();
                sq += n * n;
            }
        }
        if (!Double.isFinite(sq)) {
            finite = false;
            return;
        }
        normSquared += sq;
        optimizer.stepAndDropGradients(blockParameters);
    }

    /** Whether every block's gradients so far were finite (and so were applied). */
    public boolean finite() {
        return finite;
    }

    /**
     * The step's global gradient norm: the blocks' (summed as they arrived) with the gradients still held by
     * {@code params} (those outside the blocks, or of the blocks not applied). NaN when a block's was not finite.
     */
    public double gradientNorm(TensorVector params) {
        if (!finite) return Double.NaN;
        double rest = torch.clip_grad_norm_(params, 1e20); // an infinite bound only measures
        return Math.sqrt(normSquared + rest * rest);
    }

    /** Updates the parameters the blocks did not reach (those outside the blocks). */
    public void finish() {
        optimizer.step();
    }
}
