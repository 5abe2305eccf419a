package io.udit.eval;

/**
 * Bad input to an evaluation (too few samples, mismatched shapes, wrong dtypes, unusable files). The message says
 * what was wrong and what is needed; the CLI turns it into exit code 2.
 */
public class EvalException extends IllegalArgumentException implements io.udit.engine.UserMistake {
    private static final long serialVersionUID = 1L;

    public EvalException(String message) {
        super(message);
    }

    public EvalException(String message, Throwable cause) {
        super(message, cause);
    }
}
