package io.loupe.unlearn.metrics;

import java.util.Arrays;

/**
 * The exact two-sided two-sample Kolmogorov–Smirnov test, as {@code scipy.stats.ks_2samp(x, y, method="exact")}
 * computes it: the statistic {@code D = max |F_x − F_y|} over the pooled values, rounded to a multiple of
 * {@code 1/lcm(n, m)}, and {@code P(D_{n,m} ≥ d)} by counting lattice paths (Hodges 1958, via Drion/Gnedenko/Korolyuk;
 * the outside-the-square formula when {@code n = m}). TOFU's forget quality is this p-value between the unlearned and
 * the retrain model's forget-set truth ratios.
 */
public final class KsTest {
    /** The statistic and its exact two-sided p-value. */
    public record Result(double statistic, double pValue) {
    }

    private KsTest() {
    }

    public static Result twoSided(double[] x, double[] y) {
        if (x.length == 0 || y.length == 0) {
            throw new IllegalArgumentException("the KS test needs two non-empty samples");
        }
        double[] a = x.clone(), b = y.clone();
        Arrays.sort(a);
        Arrays.sort(b);
        int n1 = a.length, n2 = b.length;
        double d = 0;
        for (double v : concat(a, b)) {
            double f1 = (double) upperBound(a, v) / n1, f2 = (double) upperBound(b, v) / n2;
            d = Math.max(d, Math.abs(f1 - f2));
        }
        long g = gcd(n1, n2), lcm = (long) (n1 / g) * n2;
        long h = Math.round(d * lcm);
        double statistic = (double) h / lcm;
        if (h == 0) {
            return new Result(statistic, 1.0);
        }
        double p = n1 == n2 ? outsideSquare(n1, (int) h) : 1 - insideMethod(n1, n2, (int) g, h);
        return new Result(statistic, Math.max(0, Math.min(1, p)));
    }

    /** {@code P(D_{n,n} ≥ h/n)} = 2 Σ_k (−1)^k binom(2n, n − (k+1)h) / binom(2n, n), Horner form against cancellation. */
    static double outsideSquare(int n, int h) {
        double p = 0;
        for (int k = n / h; k >= 0; k--) {
            double p1 = 1;
            for (int j = 0; j < h; j++) {
                p1 = (double) (n - (long) k * h - j) * p1 / (n + (long) k * h + j + 1);
            }
            p = p1 * (1 - p);
        }
        return 2 * p;
    }

    /**
     * The share of lattice paths from (0, 0) to (m, n) that stay strictly inside {@code |x/m − y/n| < h / lcm(m, n)},
     * one column at a time with a sliding window, scaled as it goes (scipy's {@code _compute_prob_inside_method}).
     */
    static double insideMethod(int m, int n, int g, long h) {
        if (m < n) {
            int t = m;
            m = n;
            n = t;
        }
        long mg = m / g, ng = n / g;
        int minj = 0, maxj = (int) Math.min((long) Math.ceil((double) h / mg), n + 1);
        int curlen = maxj - minj;
        int lenA = Math.min(2 * maxj + 2, n + 1);
        double[] a = new double[Math.max(lenA, n + 1)];
        Arrays.fill(a, minj, maxj, 1);
        for (int i = 1; i <= m; i++) {
            int lastminj = minj, lastlen = curlen;
            minj = (int) Math.max(Math.floorDiv(ng * i - h, mg) + 1, 0);
            minj = Math.min(minj, n);
            maxj = (int) Math.min(ceilDiv(ng * i + h, mg), n + 1);
            if (maxj <= minj) {
                return 0;
            }
            double running = 0;
            double[] next = new double[maxj - minj];
            for (int q = 0; q < next.length; q++) {
                running += a[minj - lastminj + q];
                next[q] = running;
            }
            System.arraycopy(next, 0, a, 0, next.length);
            curlen = maxj - minj;
            if (lastlen > curlen) {
                Arrays.fill(a, curlen, Math.min(a.length, curlen + (lastlen - curlen)), 0);
            }
            double scale = (double) i / (n + i);
            for (int q = 0; q < a.length; q++) {
                a[q] *= scale;
            }
        }
        return a[maxj - minj - 1];
    }

    private static long ceilDiv(long a, long b) {
        return -Math.floorDiv(-a, b);
    }

    /** Number of values in sorted {@code s} that are &lt;= v (numpy's searchsorted side="right"). */
    private static int upperBound(double[] s, double v) {
        int lo = 0, hi = s.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (s[mid] <= v) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private static double[] concat(double[] a, double[] b) {
        double[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static long gcd(long a, long b) {
        return b == 0 ? a : gcd(b, a % b);
    }
}
