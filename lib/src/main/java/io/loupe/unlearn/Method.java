package io.loupe.unlearn;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The unlearning methods Loupe runs; each objective is one function of {@link UnlearningLosses}. */
public enum Method {
    /** Gradient ascent on the forget set. */
    GA("ga", false, false),
    /** Gradient difference: ascent on forget, descent on retain. */
    GRAD_DIFF("graddiff", true, false),
    /** Gradient ascent with a KL term to the target on retain. */
    KL("kl", true, true),
    /** Negative Preference Optimization. */
    NPO("npo", false, true),
    /** NPO plus the retain NLL. */
    NPO_RT("npo_rt", true, true),
    /** Representation Misdirection for Unlearning at one layer. */
    RMU("rmu", true, true);

    private final String cliName;
    private final boolean usesRetain;
    private final boolean usesReference;

    Method(String cliName, boolean usesRetain, boolean usesReference) {
        this.cliName = cliName;
        this.usesRetain = usesRetain;
        this.usesReference = usesReference;
    }

    public String cliName() {
        return cliName;
    }

    /** Whether the objective reads retain sequences. */
    public boolean usesRetain() {
        return usesRetain;
    }

    /** Whether it needs the frozen target as a reference model. */
    public boolean usesReference() {
        return usesReference;
    }

    public static Method parse(String s) {
        for (Method m : values()) {
            if (m.cliName.equalsIgnoreCase(s.trim())) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown unlearning method '" + s + "'; known: "
                + Arrays.stream(values()).map(Method::cliName).collect(Collectors.joining(", ")));
    }
}
