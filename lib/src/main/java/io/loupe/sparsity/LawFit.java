package io.loupe.sparsity;

import io.loupe.stats.LeastSquares;

/**
 * Sparsity laws (Luo et al. 2024): activation ratio A against training tokens D (billions), fitted by
 * Levenberg–Marquardt.
 * <pre>
 * ReLU form: A(D) = exp(−c·D^α + b) + A0      parameters (c, α, b, A0)
 * SiLU form: A(D) = −c·D^(−α) + A0            parameters (c, α, A0)
 * </pre>
 * Standard errors as {@link LeastSquares} gives them.
 */
public final class LawFit {
    /** Fitted parameters (in the order above), their standard errors, and the mean squared residual. */
    public record Result(String form, double[] params, double[] stdErrors, double mse) {
        /** The fitted law at D (billions of tokens). */
        public double at(double d) {
            return form.equals("silu") ? -params[0] * Math.pow(d, -params[1]) + params[2]
                    : Math.exp(-params[0] * Math.pow(d, params[1]) + params[2]) + params[3];
        }
    }

    private LawFit() {
    }

    /** Fits the SiLU form; {@code start} is (c, α, A0). */
    public static Result silu(double[] d, double[] a, double[] start) {
        return fit("silu", d, a, start, (p, x) -> {
            double c = p[0], alpha = p[1], a0 = p[2], pow = Math.pow(x, -alpha);
            return new double[]{-c * pow + a0, -pow, c * pow * Math.log(x), 1};
        });
    }

    /** Fits the ReLU form; {@code start} is (c, α, b, A0). */
    public static Result relu(double[] d, double[] a, double[] start) {
        return fit("relu", d, a, start, (p, x) -> {
            double c = p[0], alpha = p[1], b = p[2], a0 = p[3], pow = Math.pow(x, alpha), e = Math.exp(-c * pow + b);
            return new double[]{e + a0, -pow * e, -c * pow * Math.log(x) * e, e, 1};
        });
    }

    /**
     * Fits the SiLU form from data-derived starting values: A0 a little above the largest A (the ratio
     * rises towards A0), c the gap at D = 1, α = 0.5.
     */
    public static Result siluFromData(double[] d, double[] a) {
        double max = java.util.Arrays.stream(a).max().orElse(0), min = java.util.Arrays.stream(a).min().orElse(0);
        double a0 = max + 0.1 * (max - min + 1e-3);
        return silu(d, a, new double[]{Math.max(1e-3, a0 - min), 0.5, a0});
    }

    /** Fits the ReLU form from data-derived starting values: A0 a little below the smallest A, b = log(A(first) − A0), c = 1, α = 0.5. */
    public static Result reluFromData(double[] d, double[] a) {
        double max = java.util.Arrays.stream(a).max().orElse(0), min = java.util.Arrays.stream(a).min().orElse(0);
        double a0 = min - 0.1 * (max - min + 1e-3);
        return relu(d, a, new double[]{1, 0.5, Math.log(Math.max(1e-6, max - a0)), a0});
    }

    /** Value and partial derivatives of a law at one point: {@code {f, ∂f/∂p0, ∂f/∂p1, ...}}. */
    private interface Law {
        double[] eval(double[] params, double x);
    }

    private static Result fit(String form, double[] d, double[] a, double[] start, Law law) {
        if (d.length != a.length || d.length <= start.length) {
            throw new IllegalArgumentException("need more points than parameters (" + start.length + "), with D and A of equal length");
        }
        double[][] x = new double[d.length][];
        for (int i = 0; i < d.length; i++) {
            if (!(d[i] > 0)) {
                throw new IllegalArgumentException("training tokens D must be > 0, got " + d[i]);
            }
            x[i] = new double[]{d[i]};
        }
        LeastSquares.Fit f = LeastSquares.fit(x, a, start, (p, xi) -> law.eval(p, xi[0]));
        return new Result(form, f.params(), f.stdErrors(), f.mse());
    }
}
