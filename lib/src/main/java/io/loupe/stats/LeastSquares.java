package io.loupe.stats;

import org.apache.commons.math3.fitting.leastsquares.LeastSquaresBuilder;
import org.apache.commons.math3.fitting.leastsquares.LeastSquaresOptimizer;
import org.apache.commons.math3.fitting.leastsquares.LevenbergMarquardtOptimizer;
import org.apache.commons.math3.fitting.leastsquares.MultivariateJacobianFunction;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.RealVector;
import org.apache.commons.math3.util.Pair;

/**
 * Nonlinear least squares by Levenberg–Marquardt (commons-math), for the fitted laws (sparsity laws, SAE scaling laws).
 * Standard errors are the square roots of the diagonal of σ²(JᵀJ)⁻¹ with σ² = RSS / (m − p).
 */
public final class LeastSquares {
    /** Fitted parameters, their standard errors, and the mean squared residual RSS / m. */
    public record Fit(double[] params, double[] stdErrors, double mse) {
    }

    /** A model's value and partial derivatives at one point {@code x}: {@code {f, ∂f/∂p0, ∂f/∂p1, …}}. */
    public interface Model {
        double[] eval(double[] params, double[] x);
    }

    private LeastSquares() {
    }

    /**
     * @param x     the points, {@code [m][inputs]}
     * @param y     the observed values, {@code [m]}
     * @param start starting parameters, {@code [p]}; needs m > p
     */
    public static Fit fit(double[][] x, double[] y, double[] start, Model law) {
        int m = x.length, p = start.length;
        if (y.length != m || m <= p) {
            throw new IllegalArgumentException("need more points than parameters (" + p + "), and as many values as points; got " + m
                    + " points and " + y.length + " values");
        }
        MultivariateJacobianFunction model = point -> {
            double[] params = point.toArray();
            RealVector value = new ArrayRealVector(m);
            RealMatrix jac = new Array2DRowRealMatrix(m, p);
            for (int i = 0; i < m; i++) {
                double[] e = law.eval(params, x[i]);
                value.setEntry(i, e[0]);
                for (int j = 0; j < p; j++) {
                    jac.setEntry(i, j, e[j + 1]);
                }
            }
            return new Pair<>(value, jac);
        };
        LeastSquaresOptimizer.Optimum opt = new LevenbergMarquardtOptimizer().optimize(new LeastSquaresBuilder()
                .start(start).model(model).target(y).maxEvaluations(100_000).maxIterations(100_000).build());
        double rss = opt.getResiduals().dotProduct(opt.getResiduals());
        double sigma2 = rss / (m - p);
        RealMatrix cov = opt.getCovariances(1e-14);
        double[] se = new double[p];
        for (int j = 0; j < p; j++) {
            se[j] = Math.sqrt(sigma2 * cov.getEntry(j, j));
        }
        return new Fit(opt.getPoint().toArray(), se, rss / m);
    }

    /** Ordinary least squares {@code y ≈ X·b} by the normal equations, for starting values: {@code X} is {@code [m][p]}. */
    public static double[] linear(double[][] x, double[] y) {
        RealMatrix a = new Array2DRowRealMatrix(x);
        RealMatrix at = a.transpose();
        return new org.apache.commons.math3.linear.QRDecomposition(at.multiply(a)).getSolver()
                .solve(at.operate(new ArrayRealVector(y))).toArray();
    }
}
