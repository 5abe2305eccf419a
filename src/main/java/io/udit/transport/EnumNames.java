package io.udit.transport;

import java.util.Locale;

/** Parses the option names SiT and torchdiffeq use (case-insensitive) onto this package's enums. */
final class EnumNames {
    private EnumNames() {}

    /** The constant named {@code name} ignoring case, or an IllegalArgumentException listing {@code choices}. */
    static <E extends Enum<E>> E parse(Class<E> type, String what, String name, String choices) {
        try {
            return Enum.valueOf(type, name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown " + what + " '" + name + "' (" + choices + ")");
        }
    }
}
