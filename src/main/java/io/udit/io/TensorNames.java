package io.udit.io;

import io.udit.engine.UserInputException;

import java.util.Collection;

/**
 * Tensor names must be valid Unicode to round-trip exactly through .pt (UTF-8 pickle strings), .safetensors (a JSON
 * header) and .npz (zip entry names): a lone surrogate has no UTF-8 encoding, so writers would turn "\ud800" and
 * "\ud801" into the same "?" and two tensors would read back as one. Such names are refused on reading and writing.
 */
final class TensorNames {
    private TensorNames() {}

    /** Null when the name is valid, else what is wrong with it. */
    static String problem(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < name.length() && Character.isLowSurrogate(name.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return "tensor name '" + NativeIO.printable(name).replace(c, '?') + "' is not valid Unicode (a lone surrogate U+"
                        + String.format("%04X", (int) c) + " at position " + i + ")";
            }
        }
        return null;
    }

    static void checkRead(Object file, Collection<String> names) throws CheckpointFormatException {
        for (String n : names) {
            String p = problem(n);
            if (p != null) throw CheckpointFormatException.of(file, p);
        }
    }

    static void checkWrite(Object file, Collection<String> names) {
        for (String n : names) {
            String p = problem(n);
            if (p != null) throw new UserInputException(file + ": cannot write " + p);
        }
    }
}
