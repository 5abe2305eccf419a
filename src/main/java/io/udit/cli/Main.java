package io.udit.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The udit command line. */
@Command(name = "udit", mixinStandardHelpOptions = true, version = "udit 0.1.0",
        description = "U-DiT diffusion transformers on libtorch: train, sample, evaluate.",
        subcommands = {})
public final class Main implements Runnable {
    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }
}
