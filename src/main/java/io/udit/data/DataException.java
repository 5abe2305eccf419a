package io.udit.data;

/**
 * A problem with input data (missing, truncated, corrupt or inconsistent file, bad spec) or with loading it. The
 * message names the file and says what is wrong, so a trainer can print it as is.
 */
public class DataException extends RuntimeException implements io.udit.engine.UserMistake {
    public DataException(String message) {
        super(message);
    }

    public DataException(String message, Throwable cause) {
        super(message, cause);
    }
}
