package io.udit.report;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A one-line progress bar on stderr: steps done, it/s, ETA and any named values (loss, ...). Redraws in place on a
 * terminal; elsewhere (logs, CI) prints a line at most every {@code lineIntervalSeconds}.
 */
public final class ProgressBar implements AutoCloseable {
    private final String label;
    private final long total;
    private final long startStep;
    private final PrintStream out;
    private final boolean interactive;
    private final double lineIntervalSeconds;
    private final long startNanos = System.nanoTime();
    private final Map<String, String> values = new LinkedHashMap<>();
    private long step;
    private long lastDrawNanos;
    private boolean closed;
    private long deadlineNanos = Long.MAX_VALUE; // none, unless a wall-clock budget ends the work first (time-budgeted training)

    public ProgressBar(String label, long total) {
        this(label, total, 0, System.err, System.console() != null, 10.0);
    }

    /** A bar that starts at {@code startStep} (a resumed run): rates count only the steps done here. */
    public ProgressBar(String label, long total, long startStep) {
        this(label, total, startStep, System.err, System.console() != null, 10.0);
    }

    public ProgressBar(String label, long total, long startStep, PrintStream out, boolean interactive, double lineIntervalSeconds) {
        this.label = label;
        this.total = total;
        this.startStep = startStep;
        this.step = startStep;
        this.out = out;
        this.interactive = interactive;
        this.lineIntervalSeconds = lineIntervalSeconds;
    }

    /** The work also ends at this System.nanoTime() (a time budget): ETA and fill show whichever ends first. */
    public synchronized ProgressBar withDeadline(long nanoTime) {
        this.deadlineNanos = nanoTime;
        return this;
    }

    public synchronized ProgressBar set(String name, String value) {
        values.put(name, value);
        return this;
    }

    public synchronized ProgressBar set(String name, double value) {
        return set(name, format(value));
    }

    /** Marks steps up to {@code step} (absolute) as done and redraws if due. */
    public synchronized void update(long step) {
        this.step = step;
        long now = System.nanoTime();
        double sinceDraw = (now - lastDrawNanos) / 1e9;
        boolean due = interactive ? sinceDraw >= 0.1 : sinceDraw >= lineIntervalSeconds;
        if (due || step >= total) {
            lastDrawNanos = now;
            draw(step >= total);
        }
    }

    /** Steps per second since this bar started. */
    public synchronized double rate() {
        double secs = (System.nanoTime() - startNanos) / 1e9;
        return secs <= 0 ? 0 : (step - startStep) / secs;
    }

    public synchronized String line() {
        double rate = rate();
        long now = System.nanoTime();
        double eta = rate > 0 ? (total - step) / rate : Double.NaN;
        double done = total <= 0 ? 1 : (double) step / total;
        if (deadlineNanos != Long.MAX_VALUE) {
            double left = Math.max(0, (deadlineNanos - now) / 1e9);
            if (Double.isNaN(eta) || left < eta) eta = left;
            done = Math.max(done, 1 - left / Math.max(1e-9, (deadlineNanos - startNanos) / 1e9));
        }
        int width = 24;
        int filled = (int) Math.min(width, width * done);
        StringBuilder sb = new StringBuilder();
        sb.append(label).append(" [").append("#".repeat(filled)).append(".".repeat(width - filled)).append("] ")
                .append(step).append('/').append(total)
                .append(String.format(" %s it/s", format(rate)))
                .append(" ETA ").append(duration(eta))
                .append(" elapsed ").append(duration((now - startNanos) / 1e9));
        for (var e : values.entrySet()) sb.append(' ').append(e.getKey()).append('=').append(e.getValue());
        return sb.toString();
    }

    private void draw(boolean last) {
        if (interactive) {
            out.print("\r" + line() + "\u001b[K");
            if (last) out.println();
        } else {
            out.println(line());
        }
        out.flush();
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (interactive && step < total) out.println();
    }

    static String format(double v) {
        if (Double.isNaN(v)) return "nan";
        double a = Math.abs(v);
        if (a >= 100) return String.format("%.0f", v);
        if (a >= 1) return String.format("%.2f", v);
        if (a >= 0.01) return String.format("%.4f", v);
        return String.format("%.3g", v);
    }

    public static String duration(double seconds) {
        if (Double.isNaN(seconds) || Double.isInfinite(seconds)) return "--:--";
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60) : String.format("%02d:%02d", s / 60, s % 60);
    }
}
