package io.loupe.train;

import java.util.Arrays;

/**
 * The progressive activation-sparsity penalty of ProSparse (Song et al. 2024, "ProSparse: Introducing and
 * Enhancing Intrinsic Activation Sparsity within Large Language Models"): an L1 penalty on the MLP's
 * activations whose factor rises in stages instead of being switched on at once.
 *
 * <pre>
 *   penalty = λ(s) · Σ_layers mean_{real tokens, neurons} |mlp.hook_post|
 *   stages split the steps evenly; in stage i, λ rises from λ_{i−1} (λ_{−1} = 0) to λ_i along a quarter sine
 *   over the stage's first half, then holds:  λ = λ_{i−1} + (λ_i − λ_{i−1}) · sin(π/2 · min(1, 2u)),  u = progress in the stage
 * </pre>
 *
 * @param stages the factor each stage reaches (empty: no penalty)
 * @param total  total optimizer steps
 */
public record ActivationL1(double[] stages, int total) implements java.io.Serializable {
    public ActivationL1 {
        for (double l : stages) {
            if (!(l >= 0) || !Double.isFinite(l)) {
                throw new IllegalArgumentException("activation L1 factors must be finite and >= 0, got " + Arrays.toString(stages));
            }
        }
        stages = stages.clone();
    }

    public static ActivationL1 none(int total) {
        return new ActivationL1(new double[0], total);
    }

    /** Parses stage factors separated by colons, e.g. {@code 1e-4:5e-4:1e-3}; empty or "0" for none. */
    public static ActivationL1 parse(String spec, int total) {
        if (spec == null || spec.isBlank()) {
            return none(total);
        }
        double[] s = Arrays.stream(spec.split(":")).mapToDouble(Double::parseDouble).toArray();
        return Arrays.stream(s).allMatch(v -> v == 0) ? none(total) : new ActivationL1(s, total);
    }

    public boolean active() {
        return stages.length > 0;
    }

    /** λ at step {@code s}. */
    public double at(int s) {
        if (stages.length == 0) {
            return 0;
        }
        double per = (double) total / stages.length;
        int i = Math.min(stages.length - 1, (int) (s / per));
        double u = (s - i * per) / per;
        double from = i == 0 ? 0 : stages[i - 1];
        return from + (stages[i] - from) * Math.sin(Math.PI / 2 * Math.min(1, 2 * u));
    }

    @Override
    public String toString() {
        return "ActivationL1" + Arrays.toString(stages);
    }
}
