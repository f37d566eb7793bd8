package io.loupe.dict;

import io.loupe.stats.LeastSquares;

import java.util.Arrays;

/**
 * Scaling laws of sparse autoencoders (Gao et al. 2024, "Scaling and evaluating sparse autoencoders", §3.1), fitted to a
 * sweep's normalized MSE L (Loupe's FVU) by Levenberg–Marquardt:
 * <pre>
 * latents at fixed k:  L(n)    = a · n^(−b) + c                                              parameters (a, b, c)
 * joint:               L(n, k) = exp(α + β_k ln k + β_n ln n + γ ln k ln n) + exp(ζ + η ln k)  parameters (α, β_k, β_n, γ, ζ, η)
 * </pre>
 * The first is a power law in the number of latents n with an irreducible term c; the second is Gao et al.'s joint form,
 * whose irreducible term depends on k. Starting values come from the data: the irreducible term at half the smallest
 * loss, then ordinary least squares of ln(L − that) on the log terms.
 */
public final class ScalingLaws {
    /** A fitted law: its form ("latents" or "joint"), parameters in the order above, standard errors, mean squared residual. */
    public record Law(String form, double[] params, double[] stdErrors, double mse) {
        /** The law at n latents (and k, for the joint form). */
        public double at(double n, double k) {
            if (form.equals("latents")) {
                return params[0] * Math.pow(n, -params[1]) + params[2];
            }
            double lk = Math.log(k), ln = Math.log(n);
            return Math.exp(params[0] + params[1] * lk + params[2] * ln + params[3] * lk * ln) + Math.exp(params[4] + params[5] * lk);
        }
    }

    private ScalingLaws() {
    }

    /** L(n) = a·n^(−b) + c over points of one k: {@code n[i]} latents, loss {@code l[i]}; needs 4 or more points. */
    public static Law latents(double[] n, double[] l) {
        check(n, l);
        double c0 = 0.5 * Arrays.stream(l).min().orElseThrow();
        double[][] design = new double[n.length][];
        double[] y = new double[n.length];
        for (int i = 0; i < n.length; i++) {
            design[i] = new double[]{1, Math.log(n[i])};
            y[i] = Math.log(l[i] - c0);
        }
        double[] ols = LeastSquares.linear(design, y);
        double[][] x = new double[n.length][];
        for (int i = 0; i < n.length; i++) {
            x[i] = new double[]{n[i]};
        }
        LeastSquares.Fit f = LeastSquares.fit(x, l, new double[]{Math.exp(ols[0]), -ols[1], c0}, (p, xi) -> {
            double pow = Math.pow(xi[0], -p[1]);
            return new double[]{p[0] * pow + p[2], pow, -p[0] * pow * Math.log(xi[0]), 1};
        });
        return new Law("latents", f.params(), f.stdErrors(), f.mse());
    }

    /** Gao et al.'s joint L(n, k) over points {@code (n[i], k[i])} with loss {@code l[i]}; needs 7 or more points. */
    public static Law joint(double[] n, double[] k, double[] l) {
        check(n, l);
        if (k.length != n.length) {
            throw new IllegalArgumentException(n.length + " latent counts but " + k.length + " values of k");
        }
        double c0 = 0.5 * Arrays.stream(l).min().orElseThrow();
        double[][] design = new double[n.length][];
        double[] y = new double[n.length];
        double[][] x = new double[n.length][];
        for (int i = 0; i < n.length; i++) {
            if (!(k[i] > 0)) {
                throw new IllegalArgumentException("k must be > 0, got " + k[i]);
            }
            double lk = Math.log(k[i]), ln = Math.log(n[i]);
            design[i] = new double[]{1, lk, ln, lk * ln};
            y[i] = Math.log(l[i] - c0);
            x[i] = new double[]{lk, ln};
        }
        double[] ols = LeastSquares.linear(design, y);
        double[] start = {ols[0], ols[1], ols[2], ols[3], Math.log(c0), 0};
        LeastSquares.Fit f = LeastSquares.fit(x, l, start, (p, xi) -> {
            double lk = xi[0], ln = xi[1];
            double r = Math.exp(p[0] + p[1] * lk + p[2] * ln + p[3] * lk * ln), irr = Math.exp(p[4] + p[5] * lk);
            return new double[]{r + irr, r, r * lk, r * ln, r * lk * ln, irr, irr * lk};
        });
        return new Law("joint", f.params(), f.stdErrors(), f.mse());
    }

    private static void check(double[] n, double[] l) {
        if (n.length != l.length) {
            throw new IllegalArgumentException(n.length + " latent counts but " + l.length + " losses");
        }
        for (int i = 0; i < n.length; i++) {
            if (!(n[i] > 0) || !(l[i] > 0) || !Double.isFinite(l[i])) {
                throw new IllegalArgumentException("latents and loss must be positive and finite, got n = " + n[i] + ", L = " + l[i]);
            }
        }
    }
}
