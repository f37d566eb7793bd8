package io.loupe.collect;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import io.loupe.model.NextTokenLoss;

/** Per-token model outputs stored beside activations. Pure functions of logits; NaN where undefined. */
public final class TokenStats {
    private TokenStats() {
    }

    /**
     * Log-probability of the actual next token: {@code log p(x[t+1] | x[..t]) = logits[t, x[t+1]] - logsumexp(logits[t])}
     * (natural log). The last position has no next token and gets NaN; so does any position whose next
     * position is padding (mask 0).
     *
     * @param logits {@code [batch, seq, vocab]}
     * @param ids    {@code [batch, seq]} int64
     * @param mask   {@code [batch, seq]} 1 real, 0 padding
     * @return {@code [batch, seq]} float32
     */
    public static float[][] nextTokenLogprob(NDArray logits, NDArray ids, NDArray mask) {
        int b = (int) logits.getShape().get(0), t = (int) logits.getShape().get(1);
        float[][] out = new float[b][t];
        for (float[] row : out) {
            java.util.Arrays.fill(row, Float.NaN);
        }
        if (t < 2) {
            return out;
        }
        NDArray logp = NextTokenLoss.logProbs(logits.toType(DataType.FLOAT32, false));
        NDArray next = ids.get(new NDIndex(":, 1:")).expandDims(2);
        float[] picked = logp.gather(next, 2).toFloatArray();              // [b, t-1]
        long[] nextReal = mask.get(new NDIndex(":, 1:")).toLongArray();
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t - 1; j++) {
                if (nextReal[i * (t - 1) + j] != 0) {
                    out[i][j] = picked[i * (t - 1) + j];
                }
            }
        }
        return out;
    }

    /**
     * Entropy of the next-token distribution, {@code H[t] = -sum_v p_v log p_v} with {@code p = softmax(logits[t])} (nats).
     *
     * @param logits {@code [batch, seq, vocab]}
     * @return {@code [batch, seq]} float32
     */
    public static float[][] entropy(NDArray logits) {
        int b = (int) logits.getShape().get(0), t = (int) logits.getShape().get(1);
        NDArray logp = logits.toType(DataType.FLOAT32, false).logSoftmax(2);
        float[] h = logp.exp().mul(logp).sum(new int[]{2}).neg().toFloatArray();
        float[][] out = new float[b][t];
        for (int i = 0; i < b; i++) {
            System.arraycopy(h, i * t, out[i], 0, t);
        }
        return out;
    }
}
