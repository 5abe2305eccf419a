package io.udit.fuzz;

import io.udit.data.FuzzAccess;
import io.udit.engine.Engine;
import io.udit.engine.UserMistake;
import io.udit.io.Json;
import io.udit.io.Npy;
import io.udit.io.Npz;
import io.udit.io.Safetensors;
import io.udit.io.TorchCheckpoint;
import io.udit.model.ModelConfigs;
import io.udit.testing.Cli;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every hostile input under 100 KB, in a child JVM that measures its own peak RSS per input (the kernel's VmHWM,
 * reset through /proc/self/clear_refs before each one): each is refused, and none raises the peak more than 300 MB
 * above the JVM's baseline (libtorch loaded, one valid file read). The figures are printed.
 */
class HostileMemoryTest {
    static final long LIMIT_MB = 300;
    static final int MAX_INPUT_BYTES = 100 << 10;

    @TempDir
    Path tmp;

    @Test
    void everySmallHostileInputIsRefusedWithinThreeHundredMegabytes() throws Exception {
        Path report = tmp.resolve("report.txt");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cache = System.getProperty("org.bytedeco.javacpp.cachedir", Path.of(System.getProperty("user.home"), ".javacpp", "cache").toString());
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx768m", "-XX:+UseSerialGC", "-Dorg.bytedeco.javacpp.cachedir=" + cache,
                "-cp", System.getProperty("java.class.path"), Probe.class.getName(), tmp.toString(), report.toString());
        pb.redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile());
        Process p = pb.start();
        boolean done = p.waitFor(15, TimeUnit.MINUTES);
        if (!done) p.destroyForcibly();
        String log = Files.readString(tmp.resolve("child.log"));
        String text = Files.exists(report) ? Files.readString(report) : "";
        System.out.println(text);
        assertTrue(done, "the child JVM did not finish:\n" + tail(log));
        assertEquals(0, p.exitValue(), "child JVM failed:\n" + tail(log) + "\n" + text);
        assertTrue(text.contains("ALL OK"), text + "\n" + tail(log));
    }

    private static String tail(String s) {
        return s.length() > 6000 ? s.substring(s.length() - 6000) : s;
    }

    /** The child: runs each case, records baseline, per-case peak growth, and whether it was refused. */
    public static final class Probe {
        public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[0]);
            Engine.init();
            List<Runnable> warm = List.of(() -> run(() -> ModelConfigs.named("U-DiT-S")));
            warm.forEach(Runnable::run);
            System.gc();
            long baseline = status("VmRSS");
            List<String> lines = new ArrayList<>();
            List<String> bad = new ArrayList<>();
            long worst = 0;
            String worstName = "";
            int n = 0;
            for (Item it : items(dir)) {
                if (it.size > MAX_INPUT_BYTES) continue;
                System.gc();
                resetPeak();
                String outcome = run(it.call);
                long grew = Math.max(0, status("VmHWM") - baseline);
                n++;
                if (grew > worst) {
                    worst = grew;
                    worstName = it.name;
                }
                String line = String.format("%-48s %7d B  peak +%6.1f MB  %s", it.name, it.size, grew / 1048576.0, outcome);
                lines.add(line);
                if (grew > LIMIT_MB << 20) bad.add(line + "  (over " + LIMIT_MB + " MB)");
                if (it.mustFail && !outcome.startsWith("refused")) bad.add(line + "  (not refused)");
            }
            StringBuilder r = new StringBuilder();
            r.append(String.format("baseline RSS %.1f MB; %d hostile inputs under %d KB; largest peak growth %.1f MB (%s)%n",
                    baseline / 1048576.0, n, MAX_INPUT_BYTES >> 10, worst / 1048576.0, worstName));
            for (String l : lines) if (!l.contains("peak +   0.0")) r.append(l).append('\n');
            r.append(bad.isEmpty() ? "ALL OK\n" : "FAILURES:\n" + String.join("\n", bad) + "\n");
            Files.writeString(Path.of(args[1]), r.toString());
            System.exit(0);
        }

        interface Call {
            Object call() throws Exception;
        }

        record Item(String name, long size, boolean mustFail, Call call) {}

        static String run(Call c) {
            try (PointerScope s = new PointerScope()) {
                Object o = c.call();
                if (o instanceof Cli.Result r) return r.exitCode() == 2 ? "refused (exit 2)" : "exit " + r.exitCode() + ": " + r.err().strip();
                return "accepted";
            } catch (Throwable t) {
                boolean clean = t instanceof UserMistake || t instanceof IllegalArgumentException || t instanceof IOException;
                return (clean ? "refused: " : "FAILED: ") + t.getClass().getSimpleName() + (clean ? "" : " " + t.getMessage());
            }
        }

        static List<Item> items(Path dir) throws Exception {
            List<Item> out = new ArrayList<>();
            for (Hostile.Case c : concat(Hostile.pickles(), Hostile.amplifyingPickles())) {
                Path f = write(dir, "p-" + c.name() + ".pt", PickleFuzzTest.torchZip(c.data()));
                out.add(new Item("pickle " + c.name(), Files.size(f), c.type() != null, () -> TorchCheckpoint.read(f)));
            }
            for (Hostile.Case c : Hostile.checkpoints(dir)) {
                Path f = write(dir, "c-" + c.name() + ".pt", c.data());
                out.add(new Item("checkpoint " + c.name(), c.data().length, c.type() != null, () -> TorchCheckpoint.read(f)));
            }
            for (Hostile.Case c : Hostile.safetensors(dir)) {
                Path f = write(dir, "s-" + c.name() + ".safetensors", c.data());
                out.add(new Item("safetensors " + c.name(), c.data().length, c.type() != null, () -> Safetensors.read(f)));
            }
            for (Hostile.Case c : Hostile.npys()) {
                Path f = write(dir, "n-" + c.name() + ".npy", c.data());
                out.add(new Item("npy " + c.name(), c.data().length, true, () -> Npy.read(f)));
                out.add(new Item("npy-array " + c.name(), c.data().length, true, () -> FuzzAccess.npyArray(f, c.data())));
            }
            for (Hostile.Case c : Hostile.npzs(dir)) {
                Path f = write(dir, "z-" + c.name() + ".npz", c.data());
                out.add(new Item("npz " + c.name(), c.data().length, c.type() != null, () -> Npz.read(f)));
            }
            for (Hostile.Case c : Hostile.configs()) {
                String text = new String(c.data(), StandardCharsets.UTF_8);
                out.add(new Item("config " + c.name(), c.data().length, true, () -> ModelConfigs.fromMap(Json.parseObject(text))));
            }
            Path dag = write(dir, "dag.pt", HostileFiles.dagArgsCheckpoint());
            out.add(new Item("cli sample list-DAG args", Files.size(dag), true, () -> Cli.run("sample", "--checkpoint", dag.toString(),
                    "--out", dir.resolve("s1").toString())));
            for (int k : new int[] {1, 3}) {
                Path s0 = write(dir, "stride0-" + k + ".pt", HostileFiles.strideZero(k));
                out.add(new Item("cli convert stride-0 x" + k, Files.size(s0), true, () -> Cli.run("convert", s0.toString(),
                        dir.resolve("o" + k + ".safetensors").toString())));
            }
            Path dw = write(dir, "dw999.pt", HostileFiles.argsCheckpoint("dwconv999"));
            out.add(new Item("cli sample args dwconv999", Files.size(dw), true, () -> Cli.run("sample", "--checkpoint", dw.toString(),
                    "--out", dir.resolve("s2").toString())));
            Path dw9 = dir.resolve("dw9999.json");
            Files.writeString(dw9, "{\"downsampler\": \"dwconv9999\"}");
            out.add(new Item("cli info config dwconv9999", Files.size(dw9), true, () -> Cli.run("info", "--config", dw9.toString())));
            out.add(new Item("cli info --config /dev/zero", 0, true, () -> Cli.run("info", "--config", "/dev/zero")));
            out.add(new Item("cli info --config /dev/urandom", 0, true, () -> Cli.run("info", "--config", "/dev/urandom")));
            Path link = dir.resolve("zero.npy");
            Files.createSymbolicLink(link, Path.of("/dev/zero"));
            out.add(new Item("npy symlinked to /dev/zero", 0, true, () -> Npy.read(link)));
            out.add(new Item("cli decode latents -> /dev/zero", 0, true, () -> Cli.run("decode", "--latents", link.toString(),
                    "--vae", dir.toString(), "--out", dir.resolve("d").toString())));
            return out;
        }

        static List<Hostile.Case> concat(List<Hostile.Case> a, List<Hostile.Case> b) {
            List<Hostile.Case> out = new ArrayList<>(a);
            out.addAll(b);
            return out;
        }

        static Path write(Path dir, String name, byte[] data) throws IOException {
            Path f = dir.resolve(name);
            Files.write(f, data);
            return f;
        }

        static void resetPeak() {
            try {
                Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            } catch (IOException e) {
                throw new IllegalStateException("cannot reset the peak RSS (/proc/self/clear_refs): " + e, e);
            }
        }

        /** A /proc/self/status figure in bytes. */
        static long status(String key) throws IOException {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith(key + ":")) return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
            }
            throw new IllegalStateException("no " + key + " in /proc/self/status");
        }
    }
}
