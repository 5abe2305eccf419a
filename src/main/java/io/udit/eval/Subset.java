package io.udit.eval;

import io.udit.data.Dataset;

import java.util.List;
import java.util.SplittableRandom;

/** A contiguous index range [from, to) of another dataset, e.g. to hold out the last images of a single split. */
public final class Subset implements Dataset {
    private final Dataset base;
    private final int from;
    private final int to;

    public Subset(Dataset base, int from, int to) {
        if (from < 0 || to > base.size() || from >= to) {
            throw new EvalException("subset [" + from + ", " + to + ") is empty or outside the dataset's " + base.size() + " samples");
        }
        this.base = base;
        this.from = from;
        this.to = to;
    }

    @Override
    public int size() {
        return to - from;
    }

    @Override
    public int numClasses() {
        return base.numClasses();
    }

    @Override
    public int channels() {
        return base.channels();
    }

    @Override
    public int resolution() {
        return base.resolution();
    }

    @Override
    public List<String> classNames() {
        return base.classNames();
    }

    @Override
    public int read(int index, float[] dst, SplittableRandom rng) {
        if (index < 0 || index >= size()) throw new IndexOutOfBoundsException(index);
        return base.read(from + index, dst, rng);
    }

    @Override
    public String describe() {
        return base.describe() + " [" + from + ", " + to + ")";
    }

    @Override
    public boolean isImage() {
        return base.isImage();
    }
}
