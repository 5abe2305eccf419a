package io.udit.engine;

/**
 * Marks an exception whose message describes a mistake in what the user gave (an option value, a file, a config):
 * the CLI prints the message on one line and exits with code 2. Every layer's input exception implements it
 * ({@code UserInputException}, {@code CheckpointFormatException}, {@code DataException}, {@code EvalException},
 * {@code VaeException}), so the exit-code contract follows from the type, not from a list kept in the CLI.
 */
public interface UserMistake {
    String getMessage();
}
