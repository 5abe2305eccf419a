package io.udit.io;

import io.udit.engine.FileKinds;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Atomic file replacement: write a temp file in the target's directory, fsync it, rename it over the target, then
 * fsync the directory (where the platform allows). If anything fails the previous file is left intact and the temp
 * file is deleted. Only a missing path or a regular file is replaced: a rename over a symlink, FIFO, device or
 * directory would destroy something that is not ours (as root, {@code --out /dev/null} would replace /dev/null), so
 * those are refused with a FileSystemException naming what the path is (exit 2 in the CLI).
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Writes the content of a file through a channel positioned at 0. */
    @FunctionalInterface
    public interface Body {
        void write(FileChannel channel) throws IOException;
    }

    /** Atomically replaces {@code target} with whatever {@code body} writes. */
    public static void write(Path target, Body body) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new NoSuchFileException(String.valueOf(dir), null, "directory of " + target + " does not exist");
        }
        String problem = FileKinds.outputProblem(abs);
        if (problem != null) throw new FileSystemException(target.toString(), null, problem);
        String base = abs.getFileName().toString();
        if (base.length() > 100) base = base.substring(0, 100);
        Path tmp = Files.createTempFile(dir, "." + base + ".", ".tmp");
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                body.write(ch);
                ch.force(true);
            }
            setPermissions(tmp, abs);
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
            syncDirectory(dir);
        } finally {
            if (!done) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the original failure matters more
                }
            }
        }
    }

    /** Atomically replaces {@code target} with {@code data}. */
    public static void write(Path target, byte[] data) throws IOException {
        write(target, ch -> writeFully(ch, ByteBuffer.wrap(data)));
    }

    /** Writes all remaining bytes of {@code buf}. */
    public static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }

    /** The new file gets the old file's permissions, or rw-r--r-- (temp files are created rw-------). */
    private static void setPermissions(Path tmp, Path target) {
        try {
            PosixFileAttributeView view = Files.getFileAttributeView(tmp, PosixFileAttributeView.class);
            if (view == null) return;
            Set<PosixFilePermission> perms;
            if (Files.exists(target)) {
                perms = Files.getPosixFilePermissions(target, LinkOption.NOFOLLOW_LINKS);
            } else {
                perms = PosixFilePermissions.fromString("rw-r--r--");
            }
            view.setPermissions(perms);
        } catch (IOException | UnsupportedOperationException ignored) {
            // best effort: the content is what matters
        }
    }

    /** fsync a directory so the rename is durable; not every platform can open a directory, so this is best effort. */
    static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // e.g. Windows cannot open directories
        }
    }
}
