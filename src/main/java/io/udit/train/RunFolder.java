package io.udit.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A run folder owned by one process: an exclusive lock on {@code R/.lock} for the run's whole life (released by the
 * OS if the process dies), holding the owner's pid, host and start time so a second trainer can name it. Opening
 * refuses a folder that already holds a run unless the run is resumed or explicitly overwritten.
 */
public final class RunFolder implements AutoCloseable {
    /** How a run starts in its folder. */
    public enum Start {
        /** A new run: the folder must be missing or empty. */
        NEW,
        /** Continue the run in the folder (a missing or empty folder starts a new one). */
        RESUME,
        /** A new run; an existing run in the folder is moved aside to {@code <folder>.replaced-<time>} first. */
        OVERWRITE
    }

    static final String LOCK = ".lock";
    /** Temporary files of interrupted atomic writes: {@code .<name>.<random>.tmp} and libtorch's {@code .opt-*.tmp}. */
    private static final Pattern TEMPORARY = Pattern.compile("\\..*\\.tmp");

    /** The folder is owned by another trainer (another process, or another owner in this one). */
    public static final class InUseException extends RunException {
        InUseException(String message) {
            super(message);
        }
    }

    private final Path dir;
    private final FileChannel channel;
    private final FileLock lock;
    /** A view lent to a trainer for one segment of a run: closing it keeps the lock, which its owner releases. */
    private final boolean lent;
    private Start start;

    private RunFolder(Path dir, FileChannel channel, FileLock lock, boolean lent) {
        this.dir = dir;
        this.channel = channel;
        this.lock = lock;
        this.lent = lent;
    }

    public Path dir() {
        return dir;
    }

    /**
     * Takes the folder for this process. NEW on a folder that holds a run and a second owner are {@link RunException}s.
     * Nothing in the folder changes until {@link #begin}.
     */
    public static RunFolder open(Path dir, Start start) throws IOException {
        requireDirectoryOrMissing(dir);
        Files.createDirectories(dir);
        FileChannel ch = FileChannel.open(dir.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held by this JVM
        }
        if (lock == null) {
            String holder = readHolder(ch);
            ch.close();
            throw new InUseException("run folder " + dir + " is in use by another trainer (" + holder + "); wait for it to end or stop it");
        }
        RunFolder folder = new RunFolder(dir, ch, lock, false);
        try {
            folder.writeHolder();
            List<String> content = folder.content();
            if (!content.isEmpty() && start == Start.NEW) throw holdsARun(dir, content, RESUME_OR_OVERWRITE);
            folder.start = start;
            return folder;
        } catch (IOException | RuntimeException e) {
            folder.close();
            throw e;
        }
    }

    /** What a refusal to start a new run over an existing one tells the trainer's user. */
    private static final String RESUME_OR_OVERWRITE = "continue it with --resume, or start over with --overwrite (moves it aside to"
            + " <folder>.replaced-<time>)";

    /**
     * The checks of {@link #open} that need no lock, made before any work starts and without creating or changing
     * anything: the path is a directory or missing, and for a NEW run it holds no run. {@code advice} ends the refusal
     * of a folder that holds a run (what the command offers instead).
     */
    public static void check(Path dir, Start start, String advice) throws IOException {
        requireDirectoryOrMissing(dir);
        if (start != Start.NEW || !Files.isDirectory(dir)) return;
        List<String> content = contentOf(dir);
        if (!content.isEmpty()) throw holdsARun(dir, content, advice);
    }

    /** {@link #check(Path, Start, String)} for the trainer, whose refusal offers --resume and --overwrite. */
    public static void check(Path dir, Start start) throws IOException {
        check(dir, start, RESUME_OR_OVERWRITE);
    }

    private static void requireDirectoryOrMissing(Path dir) {
        if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(dir)) {
            throw new RunException("run folder " + dir + " is not a directory");
        }
    }

    private static RunException holdsARun(Path dir, List<String> content, String advice) {
        return new RunException("run folder " + dir + " already holds a run (" + summary(content) + "); "
                + advice.replace("<folder>", String.valueOf(dir.getFileName())));
    }

    /**
     * Readies the folder for training: with OVERWRITE the previous run is moved aside, and temporary files of
     * interrupted writes are removed (no other process writes here while we hold the lock).
     */
    public void begin() throws IOException {
        if (start == Start.OVERWRITE && !content().isEmpty()) moveAside();
        removeStaleTemporaries();
    }

    /**
     * The folder for one trainer of several that run one after the other under this owner (an experiment trains a run
     * in segments and evaluates between them): the trainer's close leaves the lock held.
     */
    public RunFolder lend() {
        RunFolder view = new RunFolder(dir, channel, lock, true);
        view.start = start;
        return view;
    }

    public Start start() {
        return start;
    }

    /** Whether the folder holds anything besides the lock. */
    public boolean isEmpty() throws IOException {
        return content().isEmpty();
    }

    private List<String> content() throws IOException {
        return contentOf(dir);
    }

    private static List<String> contentOf(Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.map(p -> p.getFileName().toString()).filter(n -> !n.equals(LOCK)).sorted().forEach(out::add);
        }
        return out;
    }

    private static String summary(List<String> content) {
        return content.size() <= 4 ? String.join(", ", content) : String.join(", ", content.subList(0, 4)) + ", ...";
    }

    private void moveAside() throws IOException {
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Path aside = dir.toAbsolutePath().resolveSibling(dir.getFileName() + ".replaced-" + stamp);
        for (int i = 2; Files.exists(aside, LinkOption.NOFOLLOW_LINKS); i++) {
            aside = dir.toAbsolutePath().resolveSibling(dir.getFileName() + ".replaced-" + stamp + "-" + i);
        }
        Files.createDirectory(aside);
        for (String name : content()) Files.move(dir.resolve(name), aside.resolve(name));
        System.err.println("--overwrite: moved the previous run to " + aside);
    }

    private void removeStaleTemporaries() throws IOException {
        for (Path d : new Path[] {dir, dir.resolve("checkpoints"), dir.resolve("samples")}) {
            if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) continue;
            try (Stream<Path> s = Files.list(d)) {
                for (Path p : (Iterable<Path>) s::iterator) {
                    if (TEMPORARY.matcher(p.getFileName().toString()).matches() && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                        Files.delete(p);
                        System.err.println("removed " + p + " (left by an interrupted write)");
                    }
                }
            }
        }
    }

    private void writeHolder() throws IOException {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "unknown host";
        }
        byte[] text = ("pid " + ProcessHandle.current().pid() + " on " + host + " since " + java.time.Instant.now() + "\n")
                .getBytes(StandardCharsets.UTF_8);
        channel.truncate(0);
        ByteBuffer b = ByteBuffer.wrap(text);
        while (b.hasRemaining()) channel.write(b, b.position());
        channel.force(true);
    }

    private static String readHolder(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(512);
            ch.read(b, 0);
            String s = new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).strip();
            return s.isEmpty() ? "holder unknown" : s;
        } catch (IOException e) {
            return "holder unknown";
        }
    }

    @Override
    public void close() throws IOException {
        if (lent) return;
        try {
            if (lock.isValid()) lock.release();
        } finally {
            channel.close();
        }
    }
}
