package io.loupe.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;

import java.util.List;

/** The global gradient norm and the clipping factor of {@code torch.nn.utils.clip_grad_norm_}. */
public final class GradientNorm {
    private GradientNorm() {
    }

    /**
     * {@code sqrt(Σ_p ||∇p||²)} over every parameter, read back as one number; computed as clip_grad_norm_ does, the norm
     * of the per-parameter norms (one reduction each, no squared copy of the gradients). Its temporaries are freed on
     * return: made outside a scope they would stay attached to the parameters' manager for the model's life.
     */
    public static double of(List<NDArray> params) {
        try (NDScope scope = new NDScope()) {
            NDList norms = new NDList();
            for (NDArray p : params) {
                norms.add(p.getGradient().norm());
            }
            return NDArrays.stack(norms).norm().toType(DataType.FLOAT64, false).getDouble();
        }
    }

    /** {@code min(1, maxNorm / (norm + 1e-6))}, PyTorch's clip coefficient; 1 when {@code maxNorm <= 0} (no clipping). */
    public static double clipFactor(double norm, double maxNorm) {
        return maxNorm > 0 ? Math.min(1.0, maxNorm / (norm + 1e-6)) : 1.0;
    }
}
