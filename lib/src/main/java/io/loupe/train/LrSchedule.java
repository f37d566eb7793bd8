package io.loupe.train;

/**
 * Linear warm-up, then cosine decay (as nanoGPT and most LM recipes):
 * <pre>
 *   lr(s) = peak · (s + 1) / warmup                                         s &lt; warmup
 *   lr(s) = min + (peak − min) · ½ (1 + cos(π · (s − warmup) / (total − warmup)))   otherwise, min = peak · minRatio
 * </pre>
 * so the first step is already non-zero and the last step ends at {@code min}.
 *
 * @param peak     the learning rate after warm-up
 * @param warmup   warm-up steps (0: none)
 * @param total    total optimizer steps
 * @param minRatio the final rate as a fraction of the peak
 */
public record LrSchedule(double peak, int warmup, int total, double minRatio) implements java.io.Serializable {
    public LrSchedule {
        if (!(peak > 0) || warmup < 0 || total < 1 || !(minRatio >= 0 && minRatio <= 1)) {
            throw new IllegalArgumentException("learning-rate schedule needs lr > 0, warm-up >= 0, steps >= 1 and min ratio in [0, 1]; got "
                    + this);
        }
    }

    /** The rate of step {@code s} (0-based). */
    public double at(int s) {
        if (s < warmup) {
            return peak * (s + 1) / warmup;
        }
        int decay = total - warmup;
        double progress = decay <= 1 ? 1.0 : Math.min(1.0, (double) (s - warmup) / (decay - 1));
        double min = peak * minRatio;
        return min + (peak - min) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
}
