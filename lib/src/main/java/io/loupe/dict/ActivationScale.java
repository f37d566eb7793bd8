package io.loupe.dict;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import io.loupe.tensor.Tensors;

/**
 * The factors a dictionary's inputs and targets are multiplied by during training, so that their mean norm is
 * √width whatever the model and hook (SAELens' {@code normalize_activations = "expected_average_only_in"}):
 * {@code s = √d / mean_n ‖x_n‖} over a sample of training rows. A sparse autoencoder has one factor ({@code in = out});
 * a transcoder one for its input and one for its target. After training the factors are folded into the weights
 * ({@link SparseAutoencoder#foldScale}), so the saved dictionary reads and writes raw activations.
 *
 * @param in  factor on the input x
 * @param out factor on the reconstruction target y
 */
public record ActivationScale(double in, double out) {
    /** No scaling. */
    public static final ActivationScale NONE = new ActivationScale(1, 1);

    public ActivationScale {
        if (!(in > 0) || !(out > 0) || Double.isInfinite(in) || Double.isInfinite(out)) {
            throw new IllegalArgumentException("activation scales must be finite and > 0, got " + in + " and " + out);
        }
    }

    /**
     * The factors for {@code cfg} from sample rows {@code [n, row_width]} (input, then target for a transcoder); {@link #NONE}
     * when the config does not normalise. A sample whose mean norm is zero (all-zero activations) keeps the factor 1.
     */
    public static ActivationScale estimate(SaeConfig cfg, NDArray sampleRows) {
        if (!cfg.normalize()) {
            return NONE;
        }
        try (NDScope scope = new NDScope()) {   // the squares and a transcoder's column copies are sample-sized
            double in = factor(SaeTrainer.input(cfg, sampleRows));
            return new ActivationScale(in, cfg.transcoder() ? factor(SaeTrainer.target(cfg, sampleRows)) : in);
        }
    }

    /** {@code √d / mean‖x‖} for rows {@code [n, d]}, or 1 if the mean norm is 0. */
    static double factor(NDArray x) {
        double meanNorm = Tensors.scalar(x.square().sum(new int[]{1}).sqrt().mean());
        return meanNorm > 0 ? Math.sqrt(x.getShape().get(1)) / meanNorm : 1;
    }
}
