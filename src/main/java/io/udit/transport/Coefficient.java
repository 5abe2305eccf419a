package io.udit.transport;

import org.bytedeco.pytorch.Tensor;

/** A path coefficient (alpha_t or sigma_t) and its time derivative, both shaped like the t they came from. */
public record Coefficient(Tensor value, Tensor derivative) {}
