package io.udit.io;

import java.io.IOException;

/** A weight/array file that is malformed, truncated, hostile or of an unsupported kind. The message names the file. */
public class CheckpointFormatException extends IOException implements io.udit.engine.UserMistake {
    private static final long serialVersionUID = 1L;

    public CheckpointFormatException(String message) {
        super(message);
    }

    public CheckpointFormatException(String message, Throwable cause) {
        super(message, cause);
    }

    /** {@code "<file>: <problem>"}. */
    public static CheckpointFormatException of(Object file, String problem) {
        return new CheckpointFormatException(file + ": " + problem);
    }

    public static CheckpointFormatException of(Object file, String problem, Throwable cause) {
        return new CheckpointFormatException(file + ": " + problem, cause);
    }
}
