package io.udit.eval;

import io.udit.data.Dataset;
import io.udit.engine.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.util.SplittableRandom;

/** N x C x H x W float images with their N int64 labels, e.g. read from a {@link Dataset}. */
public record LabelledImages(Tensor images, Tensor labels) {
    /** Samples {@code [from, from + count)} of a dataset, read with a fixed rng (no random augmentation differences). */
    public static LabelledImages read(Dataset d, int from, int count) {
        if (from < 0 || count < 1 || (long) from + count > d.size()) {
            throw new EvalException("cannot read samples [" + from + ", " + ((long) from + count) + ") of a dataset of " + d.size());
        }
        int s = d.sampleSize();
        float[] data = new float[Math.multiplyExact(count, s)];
        float[] one = new float[s];
        long[] labels = new long[count];
        SplittableRandom rng = new SplittableRandom(0);
        for (int i = 0; i < count; i++) {
            labels[i] = d.read(from + i, one, rng);
            System.arraycopy(one, 0, data, i * s, s);
        }
        return new LabelledImages(Tensors.floats(data, count, d.channels(), d.resolution(), d.resolution()), Tensors.longs(labels, count));
    }
}
