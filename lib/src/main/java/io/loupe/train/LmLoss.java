package io.loupe.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.loupe.hooks.Hooks;
import io.loupe.model.LanguageModel;
import io.loupe.model.NextTokenLoss;
import io.loupe.model.TokenBatch;

import java.util.List;

/**
 * The training loss of a batch of {@link TrainSequence}s, as pure functions of the model's output: the summed
 * next-token NLL over target tokens, {@code Σ_b Σ_{t ≥ firstTarget_b} −log p(x_{b,t} | x_{b,<t})} (nats).
 * The trainer divides by the step's target count; unlearning losses reuse the per-sequence form.
 */
public final class LmLoss {
    private LmLoss() {
    }

    /** The batch, right-padded, in {@code m}. */
    public static TokenBatch batch(NDManager m, List<TrainSequence> seqs) {
        return TokenBatch.of(m, seqs.stream().map(TrainSequence::ids).toList(), 0);
    }

    /** Per-token NLL at target positions, zero elsewhere: {@code [B, T−1]}; differentiable. */
    public static NDArray targetNll(NDArray logits, TokenBatch batch, List<TrainSequence> seqs) {
        return NextTokenLoss.tokenNll(NextTokenLoss.logProbs(logits), batch.ids()).mul(targetWeights(batch.manager(), seqs, batch.seqLen()));
    }

    /** Summed target NLL of each sequence {@code [B]}. */
    public static NDArray sequenceNll(NDArray logits, TokenBatch batch, List<TrainSequence> seqs) {
        return targetNll(logits, batch, seqs).sum(new int[]{1});
    }

    /** One forward pass and the batch's summed target NLL (a scalar that keeps the graph). */
    public static NDArray summedNll(LanguageModel model, TokenBatch batch, List<TrainSequence> seqs, Hooks hooks) {
        return targetNll(model.forward(batch, hooks), batch, seqs).sum();
    }

    /** 1 where position t's next token {@code ids[t+1]} is a target ({@code firstTarget <= t+1 < length}): {@code [B, T−1]}. */
    public static NDArray targetWeights(NDManager m, List<TrainSequence> seqs, int seqLen) {
        float[] w = new float[seqs.size() * (seqLen - 1)];
        for (int b = 0; b < seqs.size(); b++) {
            TrainSequence s = seqs.get(b);
            for (int t = s.firstTarget() - 1; t < s.ids().length - 1; t++) {
                w[b * (seqLen - 1) + t] = 1;
            }
        }
        return m.create(w, new Shape(seqs.size(), seqLen - 1));
    }
}
