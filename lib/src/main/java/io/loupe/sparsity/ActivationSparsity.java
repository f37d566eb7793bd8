package io.loupe.sparsity;

import io.loupe.tensor.Tensors;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;

/** Simple sparsity statistics of activations over real tokens, as pure functions. x is {@code [n, width]}. */
public final class ActivationSparsity {
    /** Massive-activation check of one layer's residual stream (Sun et al. 2024). */
    public record Massive(float[] top3, double median, boolean flagged) {
    }

    private ActivationSparsity() {
    }

    /** Nonzero fraction: per token the share of |x_i| > eps, averaged over tokens. NaN for no tokens. */
    public static double nonzeroFraction(NDArray x, double eps) {
        if (x.getShape().get(0) == 0) {
            return Double.NaN;
        }
        try (NDScope scope = new NDScope()) {   // frees the [n, width] temporaries now, not with x's manager
            return Tensors.scalar(x.abs().gt(eps).toType(DataType.FLOAT64, false).mean(new int[]{1}).mean());
        }
    }

    /** Neurons active (|x_i| > eps) on fewer than {@code minFraction} of tokens (dead: 0.001). */
    public static int deadNeurons(NDArray x, double eps, double minFraction) {
        float[] freq;
        try (NDScope scope = new NDScope()) {
            freq = x.abs().gt(eps).toType(DataType.FLOAT32, false).mean(new int[]{0}).toFloatArray();
        }
        int n = 0;
        for (float f : freq) {
            n += f < minFraction ? 1 : 0;
        }
        return n;
    }

    /**
     * Top-3 |h| and the median |h| over all entries of {@code hook_resid_post}; flagged where
     * max |h| > 100 and max |h| ≥ 1000 × median.
     */
    public static Massive massive(NDArray resid) {
        if (resid.size() == 0) {
            return new Massive(new float[0], Double.NaN, false);
        }
        float[] sorted;
        try (NDScope scope = new NDScope()) {
            sorted = resid.abs().flatten().sort().toFloatArray();
        }
        int n = sorted.length;
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
        float[] top3 = new float[Math.min(3, n)];
        for (int i = 0; i < top3.length; i++) {
            top3[i] = sorted[n - 1 - i];
        }
        return new Massive(top3, median, massiveFlag(top3[0], median));
    }

    /** The massive-activation rule: max |h| > 100 and max |h| ≥ 1000 × median |h|. */
    public static boolean massiveFlag(double max, double median) {
        return max > 100 && max >= 1000 * median;
    }
}
