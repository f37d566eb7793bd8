package io.loupe.dict;

import io.loupe.tensor.Tensors;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * Evaluation metrics as pure functions. Shapes: x, x̂ {@code [n, d_in]}; f {@code [n, d_sae]}.
 * Definitions are pinned here because tools differ (e.g. FVU around zero vs around the mean).
 */
public final class SaeMetrics {
    private SaeMetrics() {
    }

    /** MSE: {@code mean over tokens and dimensions of (x − x̂)²}. */
    public static double mse(NDArray x, NDArray xHat) {
        return Tensors.scalar(x.sub(xHat).square().mean());
    }

    /**
     * Fraction of variance unexplained: {@code Σ‖x − x̂‖² / Σ‖x − x̄‖²}, x̄ the per-dimension mean over the
     * evaluated tokens (as OpenAI's sparse_autoencoder and sparsify; not around zero). NaN if x has no variance.
     */
    public static double fvu(NDArray x, NDArray xHat) {
        double err = Tensors.scalar(x.sub(xHat).square().sum());
        double var = Tensors.scalar(x.sub(x.mean(new int[]{0}, true)).square().sum());
        return var == 0 ? Double.NaN : err / var;
    }

    /** Mean L0: average over tokens of the number of latents with {@code f > 0}. */
    public static double meanL0(NDArray f) {
        return Tensors.scalar(f.gt(0).sum(new int[]{1}).toType(DataType.FLOAT64, false).mean());
    }

    /** Per latent, the fraction of tokens on which it fires ({@code f > 0}). {@code [d_sae]} */
    public static float[] frequencies(NDArray f) {
        return f.gt(0).toType(DataType.FLOAT32, false).mean(new int[]{0}).toFloatArray();
    }

    /** Latents that never fired on the evaluated tokens. */
    public static int dead(float[] frequencies) {
        int n = 0;
        for (float v : frequencies) {
            n += v == 0 ? 1 : 0;
        }
        return n;
    }

    /** Latents firing on more than {@code threshold} of tokens (dense: 0.1). */
    public static int dense(float[] frequencies, double threshold) {
        int n = 0;
        for (float v : frequencies) {
            n += v > threshold ? 1 : 0;
        }
        return n;
    }

    /**
     * Histogram of log10 firing frequency of live latents: bin i counts latents with
     * {@code log10(freq)} in {@code [lo + i·w, lo + (i+1)·w)}, {@code w = (0 − lo) / bins}; frequencies below
     * {@code 10^lo} go to bin 0, and 1.0 to the last bin. Dead latents are not counted (see {@link #dead}).
     */
    public static long[] densityHistogram(float[] frequencies, double lo, int bins) {
        long[] h = new long[bins];
        double w = -lo / bins;
        for (float v : frequencies) {
            if (v > 0) {
                int b = (int) Math.floor((Math.log10(v) - lo) / w);
                h[Math.max(0, Math.min(bins - 1, b))]++;
            }
        }
        return h;
    }

    /**
     * What a user must hear about a fitted dictionary: FVU above 0.5 (it explains under half the variance: too strong a
     * sparsity penalty, too few steps or too high a learning rate), or more than half its latents dead. Empty when neither.
     */
    public static java.util.List<String> warnings(double fvu, long dead, int dSae) {
        java.util.List<String> w = new java.util.ArrayList<>();
        if (!(fvu <= 0.5)) {
            w.add(String.format("FVU %.3f > 0.5: the dictionary explains under half the variance (lower the sparsity penalty, train longer"
                    + " or lower the learning rate)", fvu));
        }
        if (2 * dead > dSae) {
            w.add(String.format("%d of %d latents dead (more than half)", dead, dSae));
        }
        return w;
    }
}
