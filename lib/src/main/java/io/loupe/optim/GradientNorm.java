package io.loupe.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;

import java.util.List;

/** The global gradient norm and the clipping factor of {@code torch.nn.utils.clip_grad_norm_}. */
public final class GradientNorm {
    private GradientNorm() {
    }

    /** {@code sqrt(Σ_p ||∇p||²)} over every parameter, read back as one number. */
    public static double of(List<NDArray> params) {
        NDList squares = new NDList();
        for (NDArray p : params) {
            try (NDArray g = p.getGradient()) {
                squares.add(g.square().sum());
            }
        }
        try (NDArray total = NDArrays.stack(squares).sum()) {
            double n = Math.sqrt(total.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).getDouble());
            squares.close();
            return n;
        }
    }

    /** {@code min(1, maxNorm / (norm + 1e-6))}, PyTorch's clip coefficient; 1 when {@code maxNorm <= 0} (no clipping). */
    public static double clipFactor(double norm, double maxNorm) {
        return maxNorm > 0 ? Math.min(1.0, maxNorm / (norm + 1e-6)) : 1.0;
    }
}
