package io.udit.engine;

/**
 * The general unchecked {@link UserMistake}: bad input that none of the more specific exception types describes. An
 * IllegalArgumentException, so code that already treats bad arguments as the caller's mistake keeps doing so.
 */
public class UserInputException extends IllegalArgumentException implements UserMistake {
    private static final long serialVersionUID = 1L;

    public UserInputException(String message) {
        super(message);
    }

    public UserInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
