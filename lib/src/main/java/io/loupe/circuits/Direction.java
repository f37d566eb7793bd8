package io.loupe.circuits;

/**
 * Which run receives the patch (Heimersheim and Nanda 2024, "How to use and interpret activation patching").
 * Denoising patches clean activations into the corrupted run and finds what suffices to restore the
 * behaviour; noising patches corrupted activations into the clean run and finds what is necessary.
 */
public enum Direction {
    DENOISE, NOISE;

    /** True when the clean run is the source of the patched values. */
    public boolean fromClean() {
        return this == DENOISE;
    }

    public static Direction parse(String s) {
        return switch (s.trim().toLowerCase()) {
            case "denoise", "denoising" -> DENOISE;
            case "noise", "noising" -> NOISE;
            default -> throw new IllegalArgumentException("unknown direction '" + s + "': use denoise or noise");
        };
    }
}
