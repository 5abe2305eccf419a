package io.udit.cli;

import picocli.CommandLine.Option;

/** --no-verify, shared by every command that reads weights (sample, forward, convert). */
public final class VerifyOption {
    @Option(names = "--no-verify", description = "Do not check the checksum of a udit training checkpoint (read a corrupted file anyway).")
    boolean noVerify;

    boolean verify() {
        return !noVerify;
    }
}
