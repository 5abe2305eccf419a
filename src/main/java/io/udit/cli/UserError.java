package io.udit.cli;

import io.udit.engine.UserInputException;

/** A problem with what the user asked for or gave us (bad flag value, bad file): exit code 2, message only. */
public final class UserError extends UserInputException {
    private static final long serialVersionUID = 1L;

    public UserError(String message) {
        super(message);
    }

    public UserError(String message, Throwable cause) {
        super(message, cause);
    }
}
