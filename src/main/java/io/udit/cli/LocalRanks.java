package io.udit.cli;

import io.udit.dist.GlooChatter;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Ranks of a data-parallel job on this machine: child JVMs with torchrun's variables, their output relayed. */
final class LocalRanks {
    private LocalRanks() {}

    /** Starts one rank of a local job: this JVM's classpath running {@code command} with torchrun's variables set. */
    static Process start(int rank, int nproc, String masterAddr, int port, int threads, List<String> command) throws IOException {
        return start(rank, nproc, masterAddr, port, threads, command, false);
    }

    /**
     * As {@link #start(int, int, String, int, int, List)}; with {@code separateStderr} the rank's stderr stays a
     * stream of its own (for {@link #copy}), apart from its stdout.
     */
    static Process start(int rank, int nproc, String masterAddr, int port, int threads, List<String> command, boolean separateStderr)
            throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx2g", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        cmd.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(!separateStderr);
        var env = pb.environment();
        env.put("RANK", Integer.toString(rank));
        env.put("LOCAL_RANK", Integer.toString(rank));
        env.put("WORLD_SIZE", Integer.toString(nproc));
        env.put("LOCAL_WORLD_SIZE", Integer.toString(nproc));
        env.put("MASTER_ADDR", masterAddr);
        env.put("MASTER_PORT", Integer.toString(port));
        env.put("UDIT_THREADS", Integer.toString(threads));
        env.put("OMP_NUM_THREADS", Integer.toString(threads));
        env.put("OPENBLAS_NUM_THREADS", "1"); // OpenBLAS stays single-threaded beside OpenMP (see Engine)
        return pb.start();
    }

    /** Relays a rank's output line by line with a prefix, without Gloo's connection reports. */
    static Thread relay(Process p, String prefix, PrintStream out) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (GlooChatter.isChatter(line)) continue;
                    synchronized (LocalRanks.class) {
                        out.println(prefix + line);
                    }
                }
            } catch (IOException ignored) {
                // the process is gone
            }
        }, "udit-rank-relay");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Copies a rank's stream byte for byte (progress bars keep their carriage returns). */
    static Thread copy(java.io.InputStream in, PrintStream out) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    synchronized (LocalRanks.class) {
                        out.write(buf, 0, n);
                        out.flush();
                    }
                }
            } catch (IOException ignored) {
                // the process is gone
            }
        }, "udit-rank-copy");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** A TCP port free at the moment, for the rendezvous. */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
