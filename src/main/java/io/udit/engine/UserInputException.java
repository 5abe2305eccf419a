package io.udit.engine;

/** The general unchecked {@link UserMistake}: bad input that none of the more specific exception types describes. */
public class UserInputException extends RuntimeException implements UserMistake {
    private static final long serialVersionUID = 1L;

    public UserInputException(String message) {
        super(message);
    }

    public UserInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
