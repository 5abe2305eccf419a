package io.udit.model;

import io.udit.engine.MemoryBudget;
import io.udit.engine.UserInputException;

import java.util.List;

/**
 * The documented bounds of every model-config field (README, "Limits"), checked before anything is built so that a
 * config can neither overflow a count nor ask for absurd allocations; and the model-size check against the memory
 * budget. Configs from JSON files, CLI overrides and checkpoints all pass through the config records' constructors,
 * which call these checks.
 */
public final class ConfigBounds {
    private ConfigBounds() {}

    public static final int MAX_INPUT_SIZE = 4096;
    public static final int MAX_CHANNELS = 4096;
    public static final int MAX_HIDDEN = 16384;
    public static final int MAX_HEADS = 1024;
    public static final int MAX_LEVEL_DEPTH = 256;
    public static final int MAX_DIT_DEPTH = 1024;
    public static final double MAX_MLP_RATIO = 64;
    public static final int MAX_CLASSES = 1_000_000;
    public static final int MAX_KERNEL = 31;
    public static final int MAX_DOWN_FACTOR = 64;
    /** Bytes per parameter assumed when estimating a model's memory (float32 weights). */
    public static final long BYTES_PER_PARAMETER = 4;

    /** Adds "{@code name} must be in lo..hi, got v" to {@code problems} when out of range. */
    static void range(List<String> problems, String name, long v, long lo, long hi) {
        if (v < lo || v > hi) problems.add(name + " must be in " + lo + ".." + hi + ", got " + v);
    }

    static void ratio(List<String> problems, double mlpRatio) {
        if (!(mlpRatio > 0 && mlpRatio <= MAX_MLP_RATIO)) problems.add("mlp_ratio must be in (0, " + (int) MAX_MLP_RATIO + "], got " + mlpRatio);
    }

    /**
     * Refuses a model whose parameters alone (float32) exceed the memory budget, naming both sizes. Called before a
     * network is built, so a config that is valid but too large ends in a clear message, not in the allocator.
     */
    public static void checkMemory(ModelConfig c) {
        long params = Complexity.of(c).paramsTrained();
        long bytes = params > Long.MAX_VALUE / BYTES_PER_PARAMETER ? Long.MAX_VALUE : params * BYTES_PER_PARAMETER;
        if (bytes > MemoryBudget.bytes()) {
            throw new UserInputException(String.format("the model has %,d parameters (%s as float32), more than the memory budget of %s (%s)",
                    params, MemoryBudget.human(bytes), MemoryBudget.human(MemoryBudget.bytes()), MemoryBudget.DESCRIPTION));
        }
    }
}
