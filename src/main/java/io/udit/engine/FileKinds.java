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

    /** Throws a {@link UserInputException} naming {@code role} and the path unless it is a folder (symlinks followed). */
    public static void requireFolder(Path p, String role) {
        if (Files.isDirectory(p)) return;
        String kind = describe(p);
        throw new UserInputException(role + " " + p + (kind.equals("missing") ? ": no such folder" : " is " + kind + ", not a folder"));
    }

    /**
     * Throws a {@link UserInputException} naming {@code role} and the path unless it is a folder or missing (an output
     * folder that is made when missing).
     */
    public static void requireFolderOrMissing(Path p, String role) {
        String kind = describe(p);
        if (kind.equals("a directory") || kind.equals("missing")) return;
        throw new UserInputException(role + " " + p + " is " + kind + ", not a folder");
    }

    /**
     * For outputs: null when the path may be replaced (missing, or a regular file with symlinks not followed), else
     * why not ("is a symlink; ...").
     */
    public static String outputProblem(Path p) {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS) || Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) return null;
        String kind = Files.isSymbolicLink(p) ? "a symlink" : describe(p);
        return "is " + kind + "; only a regular file or a new path is written";
    }

    /** Throws a {@link UserInputException} naming {@code role} and the path unless {@link #outputProblem} is null. */
    public static void requireReplaceable(Path p, String role) {
        String problem = outputProblem(p);
        if (problem != null) throw new UserInputException(role + " " + p + " " + problem);
    }
}
