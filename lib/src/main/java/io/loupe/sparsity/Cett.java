package io.loupe.sparsity;

import io.loupe.tensor.Tensors;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;

/**
 * Cumulative errors of tail truncation (CETT; Luo et al. 2024, "Sparsing Law") for one MLP layer.
 * With x the tensor entering the down projection ({@code mlp.hook_post}) and W_down {@code [d_model, d_mlp]}
 * (Hugging Face layout), neuron i's output norm on a token is {@code n_i = |x_i|·‖W_down[:, i]‖₂} and
 * <pre>
 * CETT(t) = mean over tokens of ‖Σ_{i: n_i ≤ t} x_i W_down[:, i]‖₂ / ‖W_down x‖₂
 * </pre>
 * Tokens whose full output is exactly zero are left out of the mean. CETT is non-decreasing in t; the
 * threshold for a target is the largest t with CETT(t) ≤ target, and the activation ratio is the
 * fraction of (token, neuron) pairs with n_i > t.
 */
public final class Cett {
    /** A layer's threshold for a CETT target, the CETT it reaches, and its activation ratio. */
    public record Threshold(double threshold, double cett, double activationRatio) {
    }

    private Cett() {
    }

    /** {@code n_i = |x_i|·‖W_down[:, i]‖₂}: x {@code [n, d_mlp]}, W_down {@code [d_model, d_mlp]} to {@code [n, d_mlp]}. */
    public static NDArray neuronNorms(NDArray x, NDArray wDown) {
        NDArray colNorms = wDown.square().sum(new int[]{0}).sqrt();               // [d_mlp]
        return x.abs().mul(colNorms);
    }

    /** CETT(t) for x {@code [n, d_mlp]}; NaN when no token has a non-zero output. */
    public static double cett(NDArray x, NDArray wDown, double t) {
        try (NDScope scope = new NDScope()) {   // temporaries of [n, d_mlp] each call: freed here, not with x's manager
            return cettUnscoped(x, wDown, t);
        }
    }

    private static double cettUnscoped(NDArray x, NDArray wDown, double t) {
        NDArray tail = x.mul(neuronNorms(x, wDown).lte(t));                         // x_i where n_i <= t
        NDArray full = x.matMul(wDown.transpose()).square().sum(new int[]{1}).sqrt();   // ‖W_down x‖ per token
        NDArray part = tail.matMul(wDown.transpose()).square().sum(new int[]{1}).sqrt();
        NDArray live = full.gt(0);
        double count = Tensors.scalar(live.toType(DataType.FLOAT64, false).sum());
        if (count == 0) {
            return Double.NaN;
        }
        NDArray ratio = part.div(full.add(full.eq(0).toType(full.getDataType(), false))).mul(live);   // 0 where full == 0
        return Tensors.scalar(ratio.toType(DataType.FLOAT64, false).sum()) / count;
    }

    /**
     * The largest t with CETT(t) ≤ target, found by binary search over the sorted neuron norms (CETT only
     * changes at those values); t = 0 if even the smallest norm overshoots the target.
     */
    public static Threshold threshold(NDArray x, NDArray wDown, double target) {
        if (x.getShape().get(0) == 0) {
            throw new IllegalArgumentException("no tokens");
        }
        try (NDScope scope = new NDScope()) {
            return search(x, wDown, target);
        }
    }

    private static Threshold search(NDArray x, NDArray wDown, double target) {
        NDArray norms = neuronNorms(x, wDown);
        float[] sorted = norms.flatten().sort().toFloatArray();
        int lo = 0, hi = sorted.length - 1, best = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (cett(x, wDown, sorted[mid]) <= target) {
                best = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        double t = best < 0 ? 0 : sorted[best];
        double ratio = Tensors.scalar(norms.gt(t).toType(DataType.FLOAT64, false).mean());
        return new Threshold(t, best < 0 ? 0 : cett(x, wDown, t), ratio);
    }
}
