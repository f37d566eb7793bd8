package io.loupe.circuits;

/** What a node is replaced by when it is removed from a circuit. */
public enum Ablation {
    /** Its mean over the corrupted prompts, position by position (Wang et al. 2022). */
    MEAN,
    /** Zero. */
    ZERO,
    /** Its value in the same example's corrupted run (resample ablation as in ACDC, Conmy et al. 2023). */
    RESAMPLE;

    public static Ablation parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown ablation '" + s + "': use mean, zero or resample");
        }
    }
}
