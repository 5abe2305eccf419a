package io.udit.train;

import io.udit.engine.Tensors;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.ArchiveWriter;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;

/**
 * The optimizer state in libtorch's serialised form (torch::optim::AdamW's archive layout) as a 1-D uint8 tensor,
 * made and read in memory. libtorch's archive writer
 * never touches a file here: a failed file write inside it (a full disk) throws from a destructor and aborts the JVM,
 * so the bytes go to native memory and the checkpoint writer puts them on disk from Java, where a failed write is an
 * ordinary IOException. The state never passes through the Java heap (1.6 GB of Adam moments for U-DiT-B).
 */
final class OptimizerState {
    private OptimizerState() {}

    /** Serialises the optimizer's state: a counting pass sizes the tensor, a second pass fills it. */
    static Tensor serialize(FusedAdamW optimizer) throws IOException {
        OutputArchive archive = new OutputArchive();
        optimizer.save(archive);
        Sink counter = new Sink(null, 0);
        archive.save_to(counter);
        Tensor t = Tensors.empty(ScalarType.Byte, counter.size); // filled by the second pass
        Sink filler = new Sink(new BytePointer(t.data_ptr()), counter.size);
        archive.save_to(filler);
        if (filler.size != counter.size) {
            throw new IOException("optimizer state changed size between two serialisations (" + counter.size + " vs " + filler.size + " bytes)");
        }
        return t;
    }

    /** Restores the state written by {@link #serialize}; a RuntimeException when the bytes are not such a state. */
    static void load(FusedAdamW optimizer, Tensor state) {
        Tensor t = state.contiguous();
        InputArchive archive = new InputArchive();
        archive.load_from(new BytePointer(t.data_ptr()), t.nbytes());
        optimizer.load(archive);
        java.lang.ref.Reference.reachabilityFence(t);
    }

    /**
     * The archive writer's callback: copies each chunk into {@code target} (or only counts it). It always reports the
     * whole chunk as written, because a short count makes libtorch throw from a destructor; a size mismatch shows in
     * {@link #size} instead.
     */
    private static final class Sink extends ArchiveWriter {
        private final BytePointer target;
        private final long capacity;
        long size;

        Sink(BytePointer target, long capacity) {
            this.target = target;
            this.capacity = capacity;
        }

        @Override
        public long call(Pointer data, long n) {
            if (target != null && size + n <= capacity) Pointer.memcpy(target.getPointer(size), data, n);
            size += n;
            return n;
        }
    }
}
