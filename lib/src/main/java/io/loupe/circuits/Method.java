package io.loupe.circuits;

/** How node scores are computed. */
public enum Method {
    /** Exact activation patching, one forward pass per node per example ({@link ActivationPatching}). */
    PATCH("patch"),
    /** Attribution patching, one forward and one backward pass per batch ({@link AttributionPatching}). */
    ATTRIB("attrib");

    private final String label;

    Method(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    public static Method parse(String s) {
        for (Method m : values()) {
            if (m.label.equalsIgnoreCase(s.trim())) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown method '" + s + "': use patch or attrib");
    }
}
