package io.udit.cli;

import io.udit.vae.Vae;
import io.udit.vae.VaeException;

import java.nio.file.Path;

/** diffusers VAE folders named on the command line (encode, decode, sample --vae, train --vae). */
final class VaeFolders {
    private VaeFolders() {}

    /** Loads a VAE folder, turning every problem into a user error (exit code 2). */
    static Vae load(Path dir) {
        try {
            return Vae.load(dir);
        } catch (VaeException e) {
            throw new UserError(e.getMessage(), e);
        }
    }
}
