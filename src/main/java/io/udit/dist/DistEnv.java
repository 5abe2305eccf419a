package io.udit.dist;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where this process sits in a job, from torchrun's environment variables (RANK, WORLD_SIZE, LOCAL_RANK,
 * MASTER_ADDR, MASTER_PORT) or flags. A world of one means no process group at all.
 */
public record DistEnv(int rank, int worldSize, int localRank, String masterAddr, int masterPort, long timeoutMillis) {
    public static final long DEFAULT_TIMEOUT_MILLIS = 60_000;

    public DistEnv {
        List<String> problems = new ArrayList<>();
        if (worldSize < 1) problems.add("WORLD_SIZE must be >= 1, got " + worldSize);
        if (rank < 0 || rank >= Math.max(1, worldSize)) problems.add("RANK must be in [0, WORLD_SIZE), got RANK=" + rank + " WORLD_SIZE=" + worldSize);
        if (localRank < 0) problems.add("LOCAL_RANK must be >= 0, got " + localRank);
        if (worldSize > 1 && (masterAddr == null || masterAddr.isBlank())) problems.add("MASTER_ADDR is not set");
        if (worldSize > 1 && (masterPort < 1 || masterPort > 65535)) problems.add("MASTER_PORT must be 1..65535, got " + masterPort);
        if (timeoutMillis < 1000) problems.add("the collective timeout must be at least 1 s");
        if (!problems.isEmpty()) throw new IllegalArgumentException("bad distributed setup: " + String.join("; ", problems));
    }

    public static DistEnv single() {
        return new DistEnv(0, 1, 0, "127.0.0.1", 29500, DEFAULT_TIMEOUT_MILLIS);
    }

    /** From torchrun-style variables; absent WORLD_SIZE means a single process. */
    public static DistEnv fromEnvironment(Map<String, String> env, long timeoutMillis) {
        String world = env.get("WORLD_SIZE");
        if (world == null || world.isBlank()) return single();
        return new DistEnv(intVar(env, "RANK", null), intVar(env, "WORLD_SIZE", null), intVar(env, "LOCAL_RANK", "0"),
                env.getOrDefault("MASTER_ADDR", ""), intVar(env, "MASTER_PORT", "29500"), timeoutMillis);
    }

    private static int intVar(Map<String, String> env, String name, String dflt) {
        String v = env.get(name);
        if (v == null || v.isBlank()) {
            if (dflt == null) throw new IllegalArgumentException("bad distributed setup: " + name + " is not set (WORLD_SIZE is)");
            v = dflt;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad distributed setup: " + name + "=" + v + " is not an integer");
        }
    }

    public boolean isDistributed() {
        return worldSize > 1;
    }

    public boolean isMain() {
        return rank == 0;
    }
}
