package io.udit.cli;

import io.udit.dist.DistEnv;
import io.udit.dist.ProcessGroup;

/** Joining a data-parallel job from a command: torchrun's variables read and the group joined, problems as user errors. */
final class Distributed {
    private Distributed() {}

    /** This process's place in a job from RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT (a single process without them). */
    static DistEnv environment(long timeoutMillis) {
        try {
            return DistEnv.fromEnvironment(System.getenv(), timeoutMillis);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage(), e);
        }
    }

    /** Joins the job's process group (rank 0 hosts the rendezvous). */
    static ProcessGroup joinGroup(DistEnv env) {
        try {
            return ProcessGroup.join(env);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage(), e);
        }
    }
}
