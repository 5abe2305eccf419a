package io.udit.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * torchrun for udit: starts N copies of a udit command on this machine with RANK, WORLD_SIZE, LOCAL_RANK,
 * MASTER_ADDR and MASTER_PORT set, prefixes their output with the rank, and when one fails gives the others
 * the collective timeout to notice before stopping them.
 */
@Command(name = "launch", mixinStandardHelpOptions = true,
        description = "Run N processes of a udit command as one data-parallel job, as torchrun does.",
        footer = {"", "Examples:", "  udit launch --nproc-per-node 2 -- train --data fashion-mnist --batch 64",
                "  udit launch --nproc-per-node 4 --threads-per-proc 2 -- sample --weights ckpt.pt"})
public final class LaunchCommand implements Callable<Integer> {
    @Option(names = "--nproc-per-node", defaultValue = "2", paramLabel = "N", description = "Processes to start (default ${DEFAULT-VALUE}).")
    int nproc;

    @Option(names = "--master-addr", defaultValue = "127.0.0.1", paramLabel = "HOST",
            description = "Address of rank 0, which hosts the rendezvous (default ${DEFAULT-VALUE}).")
    String masterAddr;

    @Option(names = "--master-port", paramLabel = "PORT", description = "Rendezvous port (default: a free one).")
    Integer masterPort;

    @Option(names = "--threads-per-proc", paramLabel = "N", description = "libtorch/OpenBLAS threads per process (default: cores / N, at least 1).")
    Integer threads;

    @Option(names = "--grace", defaultValue = "90", paramLabel = "SECONDS", description = "Seconds the others get to stop after one fails (default ${DEFAULT-VALUE}).")
    int grace;

    @Parameters(paramLabel = "COMMAND", description = "The udit command and its arguments (after --).")
    List<String> command;

    @Override
    public Integer call() throws Exception {
        Checks.inRange("--nproc-per-node", nproc, 1, 256);
        Checks.inRange("--master-port", masterPort, 1, 65_535);
        Checks.inRange("--threads-per-proc", threads, 1, 4096);
        Checks.inRange("--grace", grace, 0, 86_400);
        if (command == null || command.isEmpty()) throw new UserError("give the udit command to run after --, e.g. -- train --data synthetic");
        if (command.get(0).equals("launch")) throw new UserError("launch cannot launch itself");
        try { // a command line that cannot parse fails here, once, not in every rank
            Main.commandLine().parseArgs(command.toArray(String[]::new));
        } catch (picocli.CommandLine.ParameterException e) {
            throw new UserError("the command after --: " + e.getMessage().replace('\n', ' ') + " (see udit "
                    + (Main.commandLine().getSubcommands().containsKey(command.get(0)) ? "help " + command.get(0) : "--help") + ")", e);
        }
        int port = masterPort != null ? masterPort : LocalRanks.freePort();
        int perProc = threads != null ? threads : Math.max(1, Runtime.getRuntime().availableProcessors() / nproc);
        List<Process> procs = new ArrayList<>();
        List<Thread> pumps = new ArrayList<>();
        for (int rank = 0; rank < nproc; rank++) {
            Process p = LocalRanks.start(rank, nproc, masterAddr, port, perProc, command);
            procs.add(p);
            pumps.add(LocalRanks.relay(p, "[rank " + rank + "] ", rank == 0 ? System.out : System.err));
        }
        System.err.printf("launched %d processes (%d threads each), rendezvous %s:%d%n", nproc, perProc, masterAddr, port);
        int exit = 0;
        int failedRank = -1;
        List<Integer> pending = new ArrayList<>();
        for (int i = 0; i < nproc; i++) pending.add(i);
        long deadline = Long.MAX_VALUE;
        while (!pending.isEmpty()) {
            for (var it = pending.iterator(); it.hasNext(); ) {
                int r = it.next();
                Process p = procs.get(r);
                if (p.isAlive()) continue;
                it.remove();
                int code = p.exitValue();
                if (code != 0 && failedRank < 0) {
                    failedRank = r;
                    exit = code;
                    System.err.printf("rank %d exited with code %d; the other ranks get %d s to stop%n", r, code, grace);
                    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(grace);
                }
            }
            if (System.nanoTime() > deadline) {
                for (int r : pending) {
                    System.err.printf("stopping rank %d (rank %d failed)%n", r, failedRank);
                    procs.get(r).destroyForcibly();
                }
                break;
            }
            Thread.sleep(100);
        }
        for (Process p : procs) p.waitFor();
        for (Thread t : pumps) t.join(2000);
        return exit;
    }
}
