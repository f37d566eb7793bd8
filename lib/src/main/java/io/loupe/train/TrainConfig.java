package io.loupe.train;

import io.loupe.optim.AdamW;

import java.util.Arrays;

/**
 * How one language-model run trains. A step is {@code gradAccum} micro-batches of {@code batchSize} sequences; its
 * loss is the mean next-token NLL over every target token of the step (so accumulation equals one large batch).
 *
 * @param lr              peak learning rate (AdamW)
 * @param minLrRatio      the cosine decay ends at {@code lr · minLrRatio}
 * @param warmupSteps     linear warm-up steps
 * @param weightDecay     AdamW's decoupled decay λ; applied to matrices and embeddings, not to norms and biases (nanoGPT's choice)
 * @param beta1           AdamW β1
 * @param beta2           AdamW β2
 * @param eps             AdamW ε
 * @param clipNorm        global gradient-norm clipping threshold (0: no clipping)
 * @param batchSize       sequences per micro-batch
 * @param gradAccum       micro-batches per optimizer step
 * @param steps           optimizer steps
 * @param seed            seed of the random init (pre-training) and of the data order
 * @param evalEvery       held-out loss every this many steps (and at every checkpoint and the last step); 0: only then
 * @param evalSequences   held-out sequences evaluated each time (0: all)
 * @param stateEvery      steps between saved training states a killed run resumes from (0: only at checkpoints)
 * @param checkpointSteps steps after which a model checkpoint is written (1-based step counts, ascending)
 * @param activationL1    ProSparse's staged L1 penalty on {@code mlp.hook_post} (none by default)
 */
public record TrainConfig(double lr, double minLrRatio, int warmupSteps, double weightDecay, double beta1, double beta2, double eps,
                          double clipNorm, int batchSize, int gradAccum, int steps, long seed, int evalEvery, int evalSequences,
                          int stateEvery, int[] checkpointSteps, ActivationL1 activationL1) implements java.io.Serializable {
    public TrainConfig {
        if (batchSize < 1 || gradAccum < 1 || steps < 1) {
            throw new IllegalArgumentException("batch size, gradient accumulation and steps must be >= 1");
        }
        if (warmupSteps < 0 || warmupSteps > steps || evalEvery < 0 || evalSequences < 0 || stateEvery < 0 || !(clipNorm >= 0)) {
            throw new IllegalArgumentException("warm-up must be in [0, steps]; eval interval, eval sequences, state interval and clip norm >= 0");
        }
        new AdamW.Settings(beta1, beta2, eps, weightDecay);   // validates
        new LrSchedule(lr, warmupSteps, steps, minLrRatio);
        checkpointSteps = checkpointSteps.clone();
        for (int i = 0; i < checkpointSteps.length; i++) {
            if (checkpointSteps[i] < 1 || checkpointSteps[i] > steps || (i > 0 && checkpointSteps[i] <= checkpointSteps[i - 1])) {
                throw new IllegalArgumentException("checkpoint steps must be ascending within 1.." + steps + ", got "
                        + Arrays.toString(checkpointSteps));
            }
        }
    }

    /** Defaults of a small-model recipe: AdamW (0.9, 0.95, 1e-8), decay 0.1, clip 1.0, 2% warm-up, cosine to 10%. */
    public static TrainConfig defaults(double lr, int batchSize, int steps, long seed) {
        return new TrainConfig(lr, 0.1, Math.max(0, steps / 50), 0.1, 0.9, 0.95, 1e-8, 1.0, batchSize, 1, steps, seed, 0, 0, 0,
                new int[]{steps}, ActivationL1.none(steps));
    }

    public LrSchedule schedule() {
        return new LrSchedule(lr, warmupSteps, steps, minLrRatio);
    }

    public AdamW.Settings adam() {
        return new AdamW.Settings(beta1, beta2, eps, weightDecay);
    }

    public TrainConfig withCheckpoints(int... stepCounts) {
        return new TrainConfig(lr, minLrRatio, warmupSteps, weightDecay, beta1, beta2, eps, clipNorm, batchSize, gradAccum, steps, seed, evalEvery,
                evalSequences, stateEvery, stepCounts, activationL1);
    }

    public TrainConfig withStateEvery(int every) {
        return new TrainConfig(lr, minLrRatio, warmupSteps, weightDecay, beta1, beta2, eps, clipNorm, batchSize, gradAccum, steps, seed, evalEvery,
                evalSequences, every, checkpointSteps, activationL1);
    }

    public TrainConfig withEval(int every, int sequences) {
        return new TrainConfig(lr, minLrRatio, warmupSteps, weightDecay, beta1, beta2, eps, clipNorm, batchSize, gradAccum, steps, seed, every,
                sequences, stateEvery, checkpointSteps, activationL1);
    }

    public TrainConfig withActivationL1(ActivationL1 l1) {
        return new TrainConfig(lr, minLrRatio, warmupSteps, weightDecay, beta1, beta2, eps, clipNorm, batchSize, gradAccum, steps, seed, evalEvery,
                evalSequences, stateEvery, checkpointSteps, l1);
    }

    public TrainConfig withOptimizer(double weightDecay, double clipNorm, int warmupSteps, double minLrRatio) {
        return new TrainConfig(lr, minLrRatio, warmupSteps, weightDecay, beta1, beta2, eps, clipNorm, batchSize, gradAccum, steps, seed, evalEvery,
                evalSequences, stateEvery, checkpointSteps, activationL1);
    }

    public TrainConfig withGradAccum(int accum) {
        return new TrainConfig(lr, minLrRatio, warmupSteps, weightDecay, beta1, beta2, eps, clipNorm, batchSize, accum, steps, seed, evalEvery,
                evalSequences, stateEvery, checkpointSteps, activationL1);
    }

    @Override
    public String toString() {
        return "TrainConfig[lr=" + lr + ", minLrRatio=" + minLrRatio + ", warmup=" + warmupSteps + ", weightDecay=" + weightDecay + ", betas=("
                + beta1 + ", " + beta2 + "), eps=" + eps + ", clip=" + clipNorm + ", batch=" + batchSize + "x" + gradAccum + ", steps=" + steps
                + ", seed=" + seed + ", checkpoints=" + Arrays.toString(checkpointSteps) + ", " + activationL1 + "]";
    }
}
