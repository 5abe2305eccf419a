package io.udit.transport;

/** What the network predicts (SiT's ModelType). learn_sigma is off: one field of x's shape. */
public enum Prediction {
    VELOCITY, NOISE, SCORE;

    public static Prediction parse(String name) {
        return EnumNames.parse(Prediction.class, "prediction", name, "velocity, noise, score");
    }
}
