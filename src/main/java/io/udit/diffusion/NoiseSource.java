package io.udit.diffusion;

import io.udit.engine.Engine;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Where samplers take their standard-normal noise from: a seeded torch generator (same seed, same noise, same
 * images), or anything else (explicit tensors in tests). Called in sampling order: first the initial x_T, then once
 * per stochastic step.
 */
@FunctionalInterface
public interface NoiseSource {
    /** A fresh float32 N(0, 1) tensor of the given shape. */
    Tensor next(long[] shape);

    /** Noise from the given CPU generator (which keeps its state between calls). */
    static NoiseSource of(Generator generator) {
        return shape -> torch.randn(shape, new GeneratorOptional(generator), new TensorOptions(ScalarType.Float));
    }

    /** Noise from a fresh CPU generator seeded with {@code seed}. */
    static NoiseSource seeded(long seed) {
        return of(generator(seed));
    }

    /** A fresh CPU generator with the given seed (create it outside any PointerScope if it must outlive one). */
    static Generator generator(long seed) {
        Engine.init();
        return torch.make_generator_cpu(seed);
    }
}
