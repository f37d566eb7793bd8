package io.loupe.train;

import java.util.Arrays;
import java.util.TreeSet;

/**
 * When a run writes model checkpoints. Token targets become steps: the first step after which at least that many
 * tokens have been seen. {@link #logSpaced} spreads {@code n} targets evenly in log(tokens) between the first
 * step's tokens and the run's total, the spacing a sparsity-law fit over a series wants; the last step is always
 * included. Targets that land on the same step merge, so a short run may get fewer checkpoints than asked.
 */
public final class CheckpointSchedule {
    private CheckpointSchedule() {
    }

    /** {@code n} log-spaced checkpoint steps (1-based), from the per-step token counts. */
    public static int[] logSpaced(long[] tokensPerStep, int n) {
        long[] cumulative = cumulative(tokensPerStep);
        long first = cumulative[0], last = cumulative[cumulative.length - 1];
        long[] targets = new long[Math.max(1, n)];
        for (int i = 0; i < targets.length; i++) {
            targets[i] = targets.length == 1 ? last
                    : Math.round(Math.exp(Math.log(first) + (Math.log(last) - Math.log(first)) * i / (targets.length - 1)));
        }
        return atTokens(tokensPerStep, targets);
    }

    /** The steps at which the token targets are first reached (targets beyond the run are refused), plus the last step. */
    public static int[] atTokens(long[] tokensPerStep, long[] targets) {
        long[] cumulative = cumulative(tokensPerStep);
        long total = cumulative[cumulative.length - 1];
        TreeSet<Integer> steps = new TreeSet<>();
        for (long t : targets) {
            if (t < 1 || t > total) {
                throw new IllegalArgumentException("checkpoint at " + t + " tokens is outside the run (1.." + total + " tokens)");
            }
            int i = Arrays.binarySearch(cumulative, t);
            steps.add((i >= 0 ? i : -i - 1) + 1);
        }
        steps.add(cumulative.length);
        return steps.stream().mapToInt(Integer::intValue).toArray();
    }

    private static long[] cumulative(long[] perStep) {
        if (perStep.length == 0) {
            throw new IllegalArgumentException("a run needs at least one step");
        }
        long[] c = new long[perStep.length];
        long sum = 0;
        for (int i = 0; i < c.length; i++) {
            sum += perStep[i];
            c[i] = sum;
        }
        return c;
    }
}
