package io.udit.cli;

import io.udit.engine.Engine;
import io.udit.testing.Cli;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The exit-code contract for user mistakes: every command, run with a table of bad values for its numeric options and
 * of special files for its file options, exits 2 with one line on stderr that names the option or the file, prints no
 * stack trace, and does so before any work starts (each run has a short time limit).
 */
class CliContractTest {
    @TempDir
    static Path tmp;
    static Path fifo, dir, config;

    @BeforeAll
    static void init() throws Exception {
        Engine.init();
        dir = Files.createDirectories(tmp.resolve("a-dir"));
        fifo = tmp.resolve("a-fifo");
        Process p = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, "mkfifo");
        for (String f : List.of("x.npy", "t.npy", "y.npy", "w.pt")) Files.write(tmp.resolve(f), new byte[0]);
        config = tmp.resolve("micro.json");
        Files.writeString(config, "{\"input_size\": 8, \"in_channels\": 3, \"hidden_size\": 16, \"num_heads\": 2, \"depth\": 1,"
                + " \"mlp_ratio\": 2, \"num_classes\": 4, \"downsampler\": \"dwconv3\", \"down_factor\": 1}");
    }

    static final List<String> NON_FINITE = List.of("NaN", "Infinity", "-Infinity", "abc");
    static final List<String> BAD_COUNT = List.of("-1", "0", "99999999999", "abc", "NaN", "1.5");
    static final List<String> BAD_SPECIAL = List.of("dir", "fifo", "/dev/zero");

    /** One row: a command line with a placeholder {@code @} where the bad value goes, the option it belongs to and the bad values. */
    record Row(String option, List<String> bad, String... args) {}

    static List<Row> table() {
        String c = config.toString(), o = tmp.resolve("out").toString();
        List<Row> t = new ArrayList<>();
        // sample: numbers are checked before the checkpoint is read (a missing checkpoint would be named otherwise)
        String[] sample = {"sample", "--checkpoint", tmp.resolve("missing.pt").toString(), "--out", o};
        t.add(new Row("--per-class", BAD_COUNT, with(sample, "--per-class")));
        t.add(new Row("--sampler-steps", BAD_COUNT, with(sample, "--sampler-steps")));
        t.add(new Row("--sampler-steps", List.of("0"), with(sample, "--steps"))); // the old name still works
        t.add(new Row("--batch", BAD_COUNT, with(sample, "--batch")));
        t.add(new Row("--cfg-scale", List.of("NaN", "Infinity", "-Infinity", "abc", "-1", "1e300"), with(sample, "--cfg-scale")));
        t.add(new Row("--eta", List.of("NaN", "Infinity", "-Infinity", "abc", "-0.5", "1e300"), with(sample, "--eta")));
        t.add(new Row("--nproc-per-node", List.of("-1", "0", "99999999999", "abc", "100000"), with(sample, "--nproc-per-node")));
        t.add(new Row("--classes", List.of("-1", "1000000000", "abc"), with(sample, "--classes")));
        t.add(new Row("--decode-memory", BAD_COUNT, with(sample, "--decode-memory")));
        t.add(new Row("--weights", BAD_SPECIAL, "sample", "--weights", "@", "--out-dir", o));
        t.add(new Row("--input-size", BAD_COUNT, "info", "--config", c, "--input-size", "@"));
        t.add(new Row("--in-channels", BAD_COUNT, "info", "--config", c, "--in-channels", "@"));
        t.add(new Row("--num-classes", BAD_COUNT, "info", "--config", c, "--num-classes", "@"));
        t.add(new Row("--config", BAD_SPECIAL, "info", "--config", "@"));
        String[] fwd = {"forward", "--config", c, "--out", tmp.resolve("o.npy").toString()};
        String x = tmp.resolve("x.npy").toString(), tt = tmp.resolve("t.npy").toString(), y = tmp.resolve("y.npy").toString();
        t.add(new Row("--weights", BAD_SPECIAL, concat(fwd, "--x", x, "--t", tt, "--y", y, "--weights", "@")));
        t.add(new Row("--x", BAD_SPECIAL, concat(fwd, "--weights", tmp.resolve("w.pt").toString(), "--t", tt, "--y", y, "--x", "@")));
        t.add(new Row("--weights", BAD_SPECIAL, "convert", "--weights", "@", "--out", tmp.resolve("o.safetensors").toString()));
        String[] decode = {"decode", "--latents", tmp.resolve("l.npy").toString(), "--vae", dir.toString(), "--out", o};
        t.add(new Row("--limit", BAD_COUNT, with(decode, "--limit")));
        t.add(new Row("--per-row", BAD_COUNT, with(decode, "--per-row")));
        t.add(new Row("--decode-memory", BAD_COUNT, with(decode, "--decode-memory")));
        t.add(new Row("--decode-batch", List.of("-1", "99999999999", "abc"), with(decode, "--decode-batch")));
        t.add(new Row("--latents", BAD_SPECIAL, "decode", "--latents", "@", "--vae", dir.toString(), "--out", o));
        String[] encode = {"encode", "--images", dir.toString(), "--vae", dir.toString(), "--out", o};
        t.add(new Row("--resolution", BAD_COUNT, with(encode, "--resolution")));
        t.add(new Row("--batch", BAD_COUNT, with(encode, "--batch")));
        t.add(new Row("--images", List.of("fifo", "/dev/zero"), "encode", "--images", "@", "--vae", dir.toString(), "--out", o));
        String[] eval = {"eval", "--samples", tmp.resolve("s.npz").toString(), "--ref", tmp.resolve("r.npz").toString()};
        t.add(new Row("--batch", BAD_COUNT, with(eval, "--batch")));
        t.add(new Row("--samples", BAD_SPECIAL, "eval", "--samples", "@", "--ref", tmp.resolve("r.npz").toString()));
        String[] bench = {"bench", "--config", c};
        t.add(new Row("--batch", BAD_COUNT, with(bench, "--batch")));
        t.add(new Row("--repeats", BAD_COUNT, with(bench, "--repeats")));
        t.add(new Row("--warmup", List.of("-1", "99999999999", "abc"), with(bench, "--warmup")));
        t.add(new Row("--sampler-steps", BAD_COUNT, with(bench, "--sampler-steps")));
        t.add(new Row("--sampler-steps", List.of("0"), with(bench, "--steps"))); // the old name still works
        t.add(new Row("--peak-gflops", List.of("NaN", "Infinity", "-1", "0", "abc"), with(bench, "--peak-gflops")));
        String[] vae = {"vae-init", "--out", tmp.resolve("vae").toString()};
        t.add(new Row("--layers-per-block", BAD_COUNT, with(vae, "--layers-per-block")));
        t.add(new Row("--groups", BAD_COUNT, with(vae, "--groups")));
        t.add(new Row("--sample-size", BAD_COUNT, with(vae, "--sample-size")));
        String[] launch = {"launch", "--", "info", "--model", "U-DiT-S"};
        t.add(new Row("--nproc-per-node", List.of("-1", "0", "100000", "99999999999", "abc"), concat(new String[] {"launch", "--nproc-per-node", "@"}, Arrays.copyOfRange(launch, 1, launch.length))));
        t.add(new Row("--master-port", List.of("-1", "0", "70000", "abc"), concat(new String[] {"launch", "--master-port", "@"}, Arrays.copyOfRange(launch, 1, launch.length))));
        t.add(new Row("--grace", List.of("-1", "99999999999", "abc"), concat(new String[] {"launch", "--grace", "@"}, Arrays.copyOfRange(launch, 1, launch.length))));
        // train: every number is checked by the run config before the data or the model is touched
        String[] train = {"train", "--data", "synthetic", "--config", c, "--run-dir", tmp.resolve("run").toString()};
        t.add(new Row("--lr", List.of("NaN", "Infinity", "-Infinity", "0", "-1", "abc"), with(train, "--lr")));
        t.add(new Row("--ema", List.of("NaN", "Infinity", "-Infinity", "1", "1.5", "-0.1"), with(train, "--ema")));
        for (String opt : List.of("--grad-clip", "--min-snr", "--weight-decay")) {
            t.add(new Row(opt, List.of("NaN", "Infinity", "-Infinity", "-1", "abc"), with(train, opt)));
        }
        for (String opt : List.of("--steps", "--batch", "--log-every", "--keep", "--preview-steps", "--preview-per-class")) {
            t.add(new Row(opt, List.of("-1", "99999999999999999999", "abc"), with(train, opt)));
        }
        t.add(new Row("--batch", List.of("0", "2000000000"), with(train, "--batch")));
        t.add(new Row("--preview-steps", List.of("0"), with(train, "--preview-steps")));
        t.add(new Row("--preview-sampler", List.of("bogus", "dopri5"), with(train, "--preview-sampler")));
        t.add(new Row("--objective", List.of("bogus"), with(train, "--objective")));
        t.add(new Row("--flow-path", List.of("bogus"), concat(train, "--objective", "flow", "--flow-path", "@")));
        t.add(new Row("--timesteps", List.of("bogus", "logit-normal:x:1", "logit-normal:0:-1"), concat(train, "--objective", "flow", "--timesteps", "@")));
        t.add(new Row("--resolution", List.of("0", "-3", "99999999"), with(train, "--resolution")));
        t.add(new Row("--eval-every", List.of("-1", "99999999999999999999", "abc"), with(train, "--eval-every")));
        t.add(new Row("--eval-per-class", List.of("1", "0", "100000", "abc"), concat(train, "--eval-every", "10", "--eval-per-class", "@")));
        t.add(new Row("--eval-steps", List.of("0", "-1", "abc"), concat(train, "--eval-every", "10", "--eval-steps", "@")));
        t.add(new Row("--eval-cfg-scale", List.of("NaN", "Infinity", "-1", "abc"), concat(train, "--eval-every", "10", "--eval-cfg-scale", "@")));
        t.add(new Row("--eval-sampler", List.of("bogus", "heun2"), concat(train, "--eval-every", "10", "--eval-sampler", "@")));
        t.add(new Row("--eval-metric", List.of("bogus", "fid"), concat(train, "--eval-every", "10", "--eval-metric", "@")));
        t.add(new Row("--inception", BAD_SPECIAL, concat(train, "--eval-every", "10", "--eval-ref", config.toString(), "--inception", "@")));
        t.add(new Row("--eval-ref", BAD_SPECIAL, concat(train, "--eval-every", "10", "--inception", config.toString(), "--eval-ref", "@")));
        t.add(new Row("--config", BAD_SPECIAL, "train", "--data", "synthetic", "--config", "@", "--run-dir", tmp.resolve("run").toString()));
        t.add(new Row("--run-dir", List.of("fifo", "/dev/zero"), "train", "--data", "synthetic", "--config", c, "--run-dir", "@"));
        t.add(new Row("--sampler", List.of("bogus"), "bench", "--config", c, "--mode", "sample", "--sampler", "@"));
        // output folders: a path that exists and is not a folder is named, as is an input that is not a regular file
        List<String> notAFolder = List.of("fifo", "/dev/zero", c);
        t.add(new Row("experiment file", BAD_SPECIAL, "experiment", "run", "@", "--out", tmp.resolve("exp").toString()));
        t.add(new Row("--out", notAFolder, "experiment", "run", c, "--out", "@"));
        t.add(new Row("--inception", BAD_SPECIAL, "experiment", "run", c, "--out", tmp.resolve("exp").toString(), "--inception", "@"));
        t.add(new Row("experiment folder", List.of("fifo", "/dev/zero"), "experiment", "report", "@"));
        t.add(new Row("--out", notAFolder, "experiment", "sweep", c, "--out", "@", "--arm", "a"));
        t.add(new Row("--out-dir", notAFolder, "encode", "--images", dir.toString(), "--vae", dir.toString(), "--out-dir", "@"));
        t.add(new Row("--out-dir", notAFolder, "decode", "--latents", c, "--vae", dir.toString(), "--out-dir", "@"));
        t.add(new Row("--out-dir", notAFolder, "vae-init", "--out-dir", "@"));
        t.add(new Row("bogus", List.of("bogus"), "launch", "--", "@"));
        t.add(new Row("--input-size", List.of("abc"), "launch", "--", "info", "--model", "U-DiT-S", "--input-size", "@"));
        // demo: every number and the run folder are checked before the data is made or a training process started
        String[] demo = {"demo", "--nproc-per-node", "1", "--run-dir", tmp.resolve("demo").toString()};
        t.add(new Row("--minutes", List.of("NaN", "Infinity", "-1", "0", "1e300", "abc"), with(demo, "--minutes")));
        t.add(new Row("--steps", List.of("-1", "0", "99999999999999999999", "abc"), with(demo, "--steps")));
        t.add(new Row("--batch", List.of("-1", "0", "2000000000", "abc"), with(demo, "--batch")));
        t.add(new Row("--per-class", List.of("-1", "0", "1000000000", "abc"), with(demo, "--per-class")));
        t.add(new Row("--lr", List.of("NaN", "0", "-1", "1.5"), with(demo, "--lr")));
        t.add(new Row("--cooldown", List.of("NaN", "-0.1", "1.5"), with(demo, "--cooldown")));
        t.add(new Row("--cfg-scale", List.of("NaN", "-1", "1e300"), with(demo, "--cfg-scale")));
        t.add(new Row("--sampler-steps", BAD_COUNT, with(demo, "--sampler-steps")));
        t.add(new Row("--sampler", List.of("bogus"), with(demo, "--sampler")));
        t.add(new Row("--data", List.of("bogus", "fashion-mnist:" + tmp.resolve("no-such-folder")), with(demo, "--data")));
        t.add(new Row("--nproc-per-node", List.of("-1", "0", "100000", "abc"), "demo", "--run-dir", tmp.resolve("demo").toString(), "--nproc-per-node", "@"));
        t.add(new Row("--run-dir", List.of("fifo", "/dev/zero"), "demo", "--run-dir", "@"));
        return t;
    }

    static String[] with(String[] base, String option) {
        return concat(base, option, "@");
    }

    static String[] concat(String[] base, String... more) {
        String[] out = Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, out, base.length, more.length);
        return out;
    }

    static String special(String v) {
        return switch (v) {
            case "dir" -> dir.toString();
            case "fifo" -> fifo.toString();
            default -> v;
        };
    }

    /**
     * Runs the CLI on a helper thread; a run that has not finished after 20 s is stuck (e.g. reading a FIFO), so the
     * FIFO is opened for writing and closed, which lets the reader see end-of-file and the run finish: null.
     */
    static Cli.Result runReleasingFifos(String[] args) {
        java.util.concurrent.FutureTask<Cli.Result> task = new java.util.concurrent.FutureTask<>(() -> Cli.run(args));
        Thread t = new Thread(task, "cli");
        t.setDaemon(true);
        t.start();
        try {
            return task.get(20, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            Thread w = new Thread(() -> {
                try {
                    new java.io.FileOutputStream(fifo.toFile()).close();
                } catch (java.io.IOException ignored) {
                    // the reader went away: nothing to release
                }
            });
            w.setDaemon(true);
            w.start();
            try {
                task.get(30, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // still stuck: reported as a hang all the same
            }
            return null;
        } catch (Exception e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            return new Cli.Result(-1, "", "threw " + c); // e.g. OutOfMemoryError escaping the CLI: reported as a failure of this row
        }
    }

    /**
     * Data that cannot be read is found before the run starts: an image folder whose images are smaller than the crop
     * exits 2 with one line naming the image and the remedy, and no run folder is made.
     */
    @Test
    void unreadableDataFailsBeforeTheRunFolderIsMade() throws Exception {
        Path images = Files.createDirectories(tmp.resolve("small-images"));
        javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(8, 8, java.awt.image.BufferedImage.TYPE_INT_RGB), "png",
                images.resolve("a.png").toFile());
        Path run = tmp.resolve("run-small-images");
        Cli.Result r = Cli.run("train", "--data", images.toString(), "--resolution", "16", "--steps", "1", "--run-dir", run.toString());
        assertEquals(2, r.exitCode(), r.all());
        assertEquals(1, r.err().strip().lines().count(), r.all());
        assertTrue(r.err().contains("a.png: image is 8x8, smaller than the 16x16 crop") && r.err().contains("--resolution"), r.err());
        assertTrue(!Files.exists(run), "the run folder was made");
        // a model file that does not fit the data: one line, said before anything about the run
        Cli.Result misfit = Cli.run("train", "--data", "synthetic", "--config", config.toString(), "--run-dir", run.toString());
        assertEquals(2, misfit.exitCode(), misfit.all());
        assertEquals("udit train: model and data do not fit: model input size 8, data resolution 32; model has 4 classes, data 10",
                misfit.err().strip(), misfit.all());
        assertTrue(!Files.exists(run), "the run folder was made");
    }

    /** A file system error that carries only a path (as Files.createDirectories throws) is told with what went wrong. */
    @Test
    void fileSystemErrorsSayWhatWentWrong() throws Exception {
        Path file = Files.writeString(tmp.resolve("plain-file"), "x");
        java.nio.file.FileSystemException e = org.junit.jupiter.api.Assertions.assertThrows(java.nio.file.FileSystemException.class,
                () -> Files.createDirectories(file));
        assertEquals(file + ": already exists, as a regular file", Main.message(e));
        assertEquals(file + ": already exists, as a regular file", Main.message(new java.io.UncheckedIOException(e)));
        assertEquals("/x/y: permission denied", Main.message(new java.nio.file.AccessDeniedException("/x/y")));
        assertEquals("/x/y: No space left on device", Main.message(new java.nio.file.FileSystemException("/x/y", null, "No space left on device")));
    }

    /** A subcommand's error line starts with the command as typed, so that its "see ... --help" hint works. */
    @Test
    void errorLinesOfSubcommandsNameTheWholeCommand() {
        Cli.Result parse = Cli.run("experiment", "run", config.toString(), "--out", tmp.resolve("exp").toString(), "--jobs", "abc");
        assertEquals(2, parse.exitCode(), parse.all());
        assertTrue(parse.err().startsWith("udit experiment run: "), parse.err());
        assertTrue(parse.err().strip().endsWith("(see udit experiment run --help)"), parse.err());
        Cli.Result missing = Cli.run("experiment", "report", tmp.resolve("no-such-experiment").toString());
        assertEquals(2, missing.exitCode(), missing.all());
        assertTrue(missing.err().startsWith("udit experiment report: "), missing.err());
        Cli.Result top = Cli.run("bench", "--batch", "0", "--config", config.toString());
        assertTrue(top.err().startsWith("udit bench: "), top.err());
    }

    @Test
    void everyBadValueIsExit2WithOneLineNamingTheOptionOrFile() {
        List<String> failures = new ArrayList<>();
        int runs = 0;
        for (Row row : table()) {
            for (String bad : row.bad()) {
                String value = special(bad);
                String[] args = Arrays.stream(row.args()).map(a -> a.equals("@") ? value : a).toArray(String[]::new);
                boolean file = BAD_SPECIAL.contains(bad);
                Cli.Result r = runReleasingFifos(args);
                runs++;
                String err = r == null ? "" : r.err().strip();
                String problem = r == null ? "hangs (released by writing to the FIFO after 20 s)"
                        : r.exitCode() != 2 ? "exit " + r.exitCode()
                        : err.contains("\n") ? "more than one line"
                        : err.contains("\tat ") || err.contains("Exception") ? "stack trace"
                        : err.contains("Unknown option") ? "the table names an option the command does not have"
                        : !(file ? err.contains(value) : err.contains(row.option())) ? "message does not name " + (file ? value : row.option())
                        : null;
                if (problem != null) failures.add(String.join(" ", args) + " -> " + problem + ": " + (r == null ? "" : r.all()).strip().replace('\n', '|'));
            }
        }
        System.out.println("CLI contract: " + runs + " bad-value runs, " + failures.size() + " failures");
        assertTrue(failures.isEmpty(), failures.size() + " of " + runs + " runs broke the contract:\n" + String.join("\n", failures));
    }
}
