package io.loupe.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import io.loupe.hooks.Hooks;
import io.loupe.tensor.Tensors;

import java.util.List;
import java.util.function.Supplier;

/**
 * The language-modelling loss: mean next-token cross-entropy (nats) over positions whose next token is
 * real, {@code −mean log p(x[t+1] | x[..t])}. One definition, used by every job that reports a loss.
 */
public final class NextTokenLoss {
    private NextTokenLoss() {
    }

    /** Mean loss over {@code sequences} with the hooks {@code hooks} makes for each batch (e.g. interventions). */
    public static double mean(LanguageModel model, List<long[]> sequences, Supplier<Hooks> hooks, int batchSize) {
        double total = 0;
        long n = 0;
        for (int from = 0; from < sequences.size(); from += batchSize) {
            try (NDManager m = model.manager().newSubManager()) {
                TokenBatch b = TokenBatch.of(m, sequences.subList(from, Math.min(sequences.size(), from + batchSize)), 0);
                NDArray logProbs = logProbs(model.forward(b, hooks.get()));
                total += summedNll(logProbs, b);
                n += positions(b);
            }
        }
        return total / n;
    }

    /** log-softmax of the logits at positions with a next token: {@code [B, T, V] → [B, T−1, V]}. */
    public static NDArray logProbs(NDArray logits) {
        return Tensors.slice(logits, 1, 0, logits.getShape().get(1) - 1).logSoftmax(2);
    }

    /** {@code −Σ log p(next)} over positions whose next token is real. */
    public static double summedNll(NDArray logProbs, TokenBatch b) {
        return Tensors.scalar(tokenNll(logProbs, b.ids()).mul(validNext(b)).sum());
    }

    /**
     * {@code −log p(ids[t+1] | ids[..t])} at every position, from {@link #logProbs}: {@code [B, T−1, V], [B, T] → [B, T−1]}.
     * Differentiable; callers weight it (padding, loss masks) and sum.
     */
    public static NDArray tokenNll(NDArray logProbs, NDArray ids) {
        NDArray next = ids.get(new NDIndex(":, 1:")).expandDims(2);
        return logProbs.gather(next, 2).squeeze(2).neg();
    }

    /** 1 where the next token is real {@code [B, T−1]}. */
    public static NDArray validNext(TokenBatch b) {
        return b.mask().get(new NDIndex(":, 1:")).toType(DataType.FLOAT32, false);
    }

    /** Number of positions with a real next token. */
    public static long positions(TokenBatch b) {
        return (long) Tensors.scalar(validNext(b).sum());
    }
}
