package io.udit.transport;

import java.util.Locale;

/** What the network predicts (SiT's ModelType). learn_sigma is off: one field of x's shape. */
public enum Prediction {
    VELOCITY, NOISE, SCORE;

    public static Prediction parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown prediction '" + name + "' (velocity, noise, score)");
        }
    }
}
