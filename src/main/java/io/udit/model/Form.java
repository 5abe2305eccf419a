package io.udit.model;

/**
 * The two forms of a network. TRAIN: re-parameterisable FFN branches unfolded, autograd on.
 * EVAL: FFN branches folded into single convolutions (computed beside the trained weights, never in place),
 * fused attention, meant to run under InferenceMode.
 */
public enum Form {
    TRAIN, EVAL
}
