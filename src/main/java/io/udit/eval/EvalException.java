package io.udit.eval;

import io.udit.engine.UserInputException;

/**
 * Bad input to an evaluation (too few samples, mismatched shapes, wrong dtypes, unusable files). The message says
 * what was wrong and what is needed; the CLI turns it into exit code 2. A {@link UserInputException} that callers
 * can catch by layer.
 */
public class EvalException extends UserInputException {
    private static final long serialVersionUID = 1L;

    public EvalException(String message) {
        super(message);
    }
}
