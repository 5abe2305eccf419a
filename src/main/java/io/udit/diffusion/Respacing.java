package io.udit.diffusion;

import java.util.Arrays;
import java.util.TreeSet;

/**
 * Timestep respacing ({@code respace.py}): which steps of an original process to keep, and the process on the kept
 * steps. The kept steps' alphas_cumprod are preserved exactly; betas are recomputed from them.
 */
public final class Respacing {
    private Respacing() {}

    /** A respaced schedule and, for each of its steps, the original timestep the network must be fed. */
    public record Spaced(NoiseSchedule schedule, int[] timestepMap) {
        public Spaced {
            timestepMap = timestepMap.clone();
        }

        @Override
        public int[] timestepMap() {
            return timestepMap.clone();
        }
    }

    /**
     * {@code space_timesteps(num_timesteps, section_counts)}: either comma-separated counts per equal section
     * ("250", "10,15,20": each section strided with a fractional stride, Python rounding) or "ddimN" (the fixed
     * integer stride of the DDIM paper that gives exactly N steps). An empty string keeps every step.
     *
     * @return the kept timesteps, ascending, without duplicates
     */
    public static int[] spaceTimesteps(int numTimesteps, String sectionCounts) {
        if (numTimesteps < 1) throw new IllegalArgumentException("need at least one timestep");
        String spec = sectionCounts == null ? "" : sectionCounts.trim();
        if (spec.isEmpty()) spec = Integer.toString(numTimesteps);
        if (spec.startsWith("ddim")) {
            int desired = Integer.parseInt(spec.substring("ddim".length()));
            for (int stride = 1; stride < numTimesteps; stride++) {
                int count = (numTimesteps + stride - 1) / stride; // len(range(0, T, stride))
                if (count == desired) {
                    int[] out = new int[count];
                    for (int k = 0; k < count; k++) out[k] = k * stride;
                    return out;
                }
            }
            throw new IllegalArgumentException("cannot create exactly " + desired + " steps out of " + numTimesteps
                    + " with an integer stride");
        }
        int[] counts = Arrays.stream(spec.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
        return spaceTimesteps(numTimesteps, counts);
    }

    /** {@code space_timesteps} with explicit section counts. */
    public static int[] spaceTimesteps(int numTimesteps, int[] sectionCounts) {
        if (sectionCounts.length == 0) throw new IllegalArgumentException("no section counts");
        int sizePer = numTimesteps / sectionCounts.length;
        int extra = numTimesteps % sectionCounts.length;
        int startIdx = 0;
        TreeSet<Integer> all = new TreeSet<>();
        for (int i = 0; i < sectionCounts.length; i++) {
            int sectionCount = sectionCounts[i];
            int size = sizePer + (i < extra ? 1 : 0);
            if (size < sectionCount) {
                throw new IllegalArgumentException("cannot divide section of " + size + " steps into " + sectionCount);
            }
            double fracStride = sectionCount <= 1 ? 1 : (double) (size - 1) / (sectionCount - 1);
            double curIdx = 0.0;
            for (int k = 0; k < sectionCount; k++) {
                all.add(startIdx + (int) Math.rint(curIdx)); // Python's round(): half to even, like rint
                curIdx += fracStride;
            }
            startIdx += size;
        }
        return all.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * {@code SpacedDiffusion.__init__}: keep the given original steps; new beta = 1 - alpha_bar / last kept
     * alpha_bar; the timestep map lists the kept original steps in order.
     */
    public static Spaced respace(NoiseSchedule base, int[] useTimesteps) {
        boolean[] keep = new boolean[base.numTimesteps()];
        for (int t : useTimesteps) {
            if (t < 0 || t >= keep.length) throw new IllegalArgumentException("timestep " + t + " out of range");
            keep[t] = true;
        }
        double[] ac = base.rawAlphasCumprod();
        double last = 1.0;
        double[] newBetas = new double[useTimesteps.length];
        int[] map = new int[useTimesteps.length];
        int k = 0;
        for (int i = 0; i < ac.length; i++) {
            if (!keep[i]) continue;
            newBetas[k] = 1 - ac[i] / last;
            last = ac[i];
            map[k++] = i;
        }
        return new Spaced(NoiseSchedule.fromBetas(Arrays.copyOf(newBetas, k)), Arrays.copyOf(map, k));
    }

    /** Respacing by a spec string ("250", "ddim50", "" = all steps) of the base schedule. */
    public static Spaced respace(NoiseSchedule base, String sectionCounts) {
        return respace(base, spaceTimesteps(base.numTimesteps(), sectionCounts));
    }
}
