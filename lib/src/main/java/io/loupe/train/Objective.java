package io.loupe.train;

import ai.djl.training.GradientCollector;
import io.loupe.model.LanguageModel;

/**
 * What {@link LmTrainer} minimises: the forward and backward passes of one optimizer step. The next-token loss
 * ({@link NextTokenObjective}) is one; each unlearning method is another. The trainer owns the rest (AdamW,
 * schedule, clipping, checkpoints, training states), so every objective gets them identically.
 */
public interface Objective {
    /**
     * Runs step {@code step}'s batches through the model and backpropagates its loss with {@code gc} (called inside
     * the trainer's gradient collector; gradients add to the trainable parameters').
     *
     * @return the step's loss, as it is logged (e.g. mean NLL per target token)
     */
    double accumulate(LanguageModel model, int step, double activationL1, GradientCollector gc);

    /** Tokens each of the first {@code steps} steps consumes (padding excluded): tokens_seen and token-based checkpoints. */
    long[] tokensPerStep(int steps);

    /** Whether {@link #evaluate} yields a number (a held-out set exists). */
    boolean evaluates();

    /** A figure after an update (held-out loss, forget NLL, …), without gradients. */
    double evaluate(LanguageModel model);

    /** Identifies the data and the loss, so a training state is only resumed under the same objective. */
    String fingerprint();
}
