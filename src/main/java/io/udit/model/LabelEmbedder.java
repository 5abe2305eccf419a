package io.udit.model;

import org.bytedeco.pytorch.Tensor;

/**
 * Class-label table (key embedding_table.weight). With class dropout the table has one extra row, the null class,
 * used both when labels are dropped in training and as the unconditional branch of classifier-free guidance.
 * Dropping labels is the trainer's job (it decides shared or independent draws), so forward is a plain lookup.
 */
public final class LabelEmbedder extends Hooked.Unary {
    final Layers.Embedding table;
    public final int numClasses;
    public final boolean hasNullClass;

    public LabelEmbedder(int numClasses, int width, double dropoutProb) {
        this.numClasses = numClasses;
        this.hasNullClass = dropoutProb > 0;
        this.table = new Layers.Embedding(numClasses + (hasNullClass ? 1 : 0), width);
        register_module("embedding_table", table);
    }

    @Override
    public Tensor forward(Tensor labels) {
        return table.forward(labels);
    }
}
