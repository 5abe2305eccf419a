package io.udit.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The old spellings, hidden from the help pages, still set what the new names set (and are not undone by defaults). */
class OptionAliasTest {
    @SuppressWarnings("unchecked")
    static <T> T parse(String... args) {
        CommandLine cl = Main.commandLine();
        CommandLine.ParseResult r = cl.parseArgs(args);
        return (T) r.subcommand().commandSpec().userObject();
    }

    @Test
    void sampleAcceptsItsOldNames() {
        SampleCommand s = parse("sample", "--checkpoint", "w.pt", "--steps", "7", "--out", "o");
        assertEquals(Path.of("w.pt"), s.weights);
        assertEquals(7, s.steps);
        assertEquals(Path.of("o"), s.out);
        SampleCommand d = parse("sample", "--weights", "w.pt");
        assertEquals(Path.of("samples"), d.out);
    }

    @Test
    void outputFoldersAcceptOut() {
        DecodeCommand d = parse("decode", "--latents", "z.npy", "--out", "o");
        assertEquals(Path.of("o"), d.out);
        assertEquals(Path.of("decoded"), ((DecodeCommand) parse("decode", "--latents", "z.npy")).out);
        EncodeCommand e = parse("encode", "--images", "i", "--vae", "v", "--out", "o");
        assertEquals(Path.of("o"), e.out);
        VaeInitCommand v = parse("vae-init", "--out", "o");
        assertEquals(Path.of("o"), v.out);
    }

    /** An experiment's folder is an output folder: --out-dir as everywhere, --out as its first name. */
    @Test
    void experimentFoldersAcceptOutDir() {
        for (String sub : List.of("run", "sweep")) {
            for (String name : List.of("--out", "--out-dir")) {
                String[] args = sub.equals("run") ? new String[] {"experiment", sub, "e.json", name, "o"}
                        : new String[] {"experiment", sub, "e.json", name, "o", "--arm", "a"};
                CommandLine.ParseResult r = Main.commandLine().parseArgs(args);
                Object cmd = r.subcommand().subcommand().commandSpec().userObject();
                Path out = cmd instanceof ExperimentCommand.Run run ? run.out : ((ExperimentCommand.Sweep) cmd).out;
                assertEquals(Path.of("o"), out, sub + " " + name);
            }
        }
    }

    @Test
    void convertAcceptsPositionalFiles() {
        ConvertCommand c = parse("convert", "in.pt", "out.safetensors");
        assertEquals(Path.of("in.pt"), c.in);
        assertEquals(Path.of("out.safetensors"), c.out);
    }

    @Test
    void demoAcceptsOutAndProcs() {
        DemoCommand d = parse("demo", "--out", "r", "--procs", "2");
        assertEquals(Path.of("r"), d.out);
        assertEquals(2, d.procs);
    }

    @Test
    void benchAcceptsStepsForSamplerSteps() {
        assertEquals(7, ((BenchCommand) parse("bench", "--mode", "sample", "--steps", "7")).steps);
        assertEquals(9, ((BenchCommand) parse("bench", "--mode", "sample", "--sampler-steps", "9")).steps);
        assertEquals(25, ((BenchCommand) parse("bench", "--mode", "sample")).steps);
    }
}
