package io.udit.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * What kind of file system object a path names. Reading a FIFO blocks forever, a device such as /dev/zero never
 * ends and reports size 0, so every input is checked to be a regular file (symlinks followed) before it is opened.
 */
public final class FileKinds {
    private FileKinds() {}

    /** "a regular file", "a directory", "a FIFO, socket or device", "a dangling symlink" or "missing". */
    public static String describe(Path p) {
        try {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
            if (a.isRegularFile()) return "a regular file";
            if (a.isDirectory()) return "a directory";
            return "a FIFO, socket or device";
        } catch (NoSuchFileException e) {
            return Files.isSymbolicLink(p) ? "a dangling symlink" : "missing";
        } catch (IOException e) {
            return "unreadable (" + e.getMessage() + ")";
        }
    }

    /** Throws a {@link UserInputException} naming {@code role} and the path unless it is a regular file. */
    public static void requireRegular(Path p, String role) {
        if (Files.isRegularFile(p)) return;
        String kind = describe(p);
        throw new UserInputException(role + " " + p + (kind.equals("missing") ? ": no such file" : " is " + kind + ", not a regular file"));
    }

    /** For outputs: a missing path or a regular file (symlinks not followed) may be replaced; anything else may not. */
    public static void requireReplaceable(Path p, String role) {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return;
        if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) return;
        String kind = Files.isSymbolicLink(p) ? "a symlink" : describe(p);
        throw new UserInputException(role + " " + p + " is " + kind + "; only a regular file or a new path is written");
    }
}
