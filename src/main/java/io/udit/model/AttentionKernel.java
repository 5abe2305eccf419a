package io.udit.model;

/**
 * Which attention kernel U-DiT's and DiT's attention layers run: the reference's explicit matmul-softmax-matmul
 * (MATH, kept for parity tests) or libtorch's fused scaled-dot-product attention with its own backward (FUSED).
 */
public enum AttentionKernel { MATH, FUSED }
