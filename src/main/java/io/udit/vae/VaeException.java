package io.udit.vae;

import io.udit.engine.UserInputException;

/**
 * A VAE folder, config or weight file that cannot be used (missing, malformed, or not matching the architecture), or
 * latents that do not fit the VAE. The message names the file or key and says what is wrong; the CLI prints it and
 * exits with code 2. A {@link UserInputException} that callers can catch by layer.
 */
public class VaeException extends UserInputException {
    private static final long serialVersionUID = 1L;

    public VaeException(String message) {
        super(message);
    }

    public VaeException(String message, Throwable cause) {
        super(message, cause);
    }
}
