package io.udit.train;

/**
 * A run that cannot start or continue as asked (folder in use or holding another run, a resume that would change
 * the run, a checkpoint that does not fit): a user decision, so exit code 2 with this one-line message.
 */
public class RunException extends RuntimeException implements io.udit.engine.UserMistake {
    public RunException(String message) {
        super(message);
    }

    public RunException(String message, Throwable cause) {
        super(message, cause);
    }
}
