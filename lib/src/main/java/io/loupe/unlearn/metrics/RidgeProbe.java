package io.loupe.unlearn.metrics;

import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.CholeskyDecomposition;
import org.apache.commons.math3.linear.RealMatrix;

import java.util.ArrayList;
import java.util.List;

/**
 * A linear probe: multi-class ridge regression on one-hot labels (features centred on the training mean), predicting
 * the arg-max class. Closed form, deterministic, no learning-rate to tune:
 * <pre>
 *   W = (Xcᵀ Xc + λ I)⁻¹ Xcᵀ (Y − ȳ),    λ = ridge · trace(XcᵀXc) / d,    ŷ(x) = argmax_c ((x − x̄) W + ȳ)_c
 * </pre>
 */
public final class RidgeProbe {
    private final double[] mean;
    private final double[][] w;     // [d][classes]
    private final double[] bias;    // ȳ per class
    private final List<String> classes;

    private RidgeProbe(double[] mean, double[][] w, double[] bias, List<String> classes) {
        this.mean = mean;
        this.w = w;
        this.bias = bias;
        this.classes = classes;
    }

    /**
     * @param x     training rows {@code [n][d]}
     * @param y     their labels
     * @param ridge λ relative to the mean feature variance (e.g. 1e-2)
     */
    public static RidgeProbe fit(double[][] x, List<String> y, double ridge) {
        if (x.length == 0 || x.length != y.size()) {
            throw new IllegalArgumentException("a probe needs as many labels as rows, and at least one: " + x.length + " rows, " + y.size() + " labels");
        }
        List<String> classes = new ArrayList<>(new java.util.TreeSet<>(y));
        int n = x.length, d = x[0].length, c = classes.size();
        double[] mean = new double[d];
        for (double[] row : x) {
            for (int j = 0; j < d; j++) {
                mean[j] += row[j] / n;
            }
        }
        double[] ybar = new double[c];
        for (String label : y) {
            ybar[classes.indexOf(label)] += 1.0 / n;
        }
        double[][] xtx = new double[d][d], xty = new double[d][c];
        for (int i = 0; i < n; i++) {
            int cls = classes.indexOf(y.get(i));
            for (int a = 0; a < d; a++) {
                double xa = x[i][a] - mean[a];
                for (int b = 0; b < d; b++) {
                    xtx[a][b] += xa * (x[i][b] - mean[b]);
                }
                for (int k = 0; k < c; k++) {
                    xty[a][k] += xa * ((k == cls ? 1 : 0) - ybar[k]);
                }
            }
        }
        double trace = 0;
        for (int a = 0; a < d; a++) {
            trace += xtx[a][a];
        }
        double lambda = Math.max(ridge * trace / d, 1e-12);
        for (int a = 0; a < d; a++) {
            xtx[a][a] += lambda;
        }
        RealMatrix sol = new CholeskyDecomposition(new Array2DRowRealMatrix(xtx, false)).getSolver().solve(new Array2DRowRealMatrix(xty, false));
        return new RidgeProbe(mean, sol.getData(), ybar, classes);
    }

    public String predict(double[] x) {
        int best = 0;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < classes.size(); k++) {
            double s = bias[k];
            for (int a = 0; a < mean.length; a++) {
                s += (x[a] - mean[a]) * w[a][k];
            }
            if (s > bestScore) {
                bestScore = s;
                best = k;
            }
        }
        return classes.get(best);
    }

    /** Share of rows whose prediction equals the label (NaN with no rows). */
    public double accuracy(double[][] x, List<String> y) {
        if (x.length == 0) {
            return Double.NaN;
        }
        int right = 0;
        for (int i = 0; i < x.length; i++) {
            if (predict(x[i]).equals(y.get(i))) {
                right++;
            }
        }
        return (double) right / x.length;
    }
}
