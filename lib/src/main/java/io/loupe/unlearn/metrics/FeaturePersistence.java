package io.loupe.unlearn.metrics;

/**
 * Removal or suppression, in dictionary features. Given a sparse dictionary trained on the target's activations at
 * one hook, the forget latents are those that fire on at least {@code minFrequency} of the target's forget tokens and
 * at least {@code ratio} times as often there as on its retain tokens. For a model, each forget latent's persistence
 * is its firing frequency on the forget tokens over the target's; a latent with persistence below ½ is removed.
 * An unlearned model whose forget latents persist while its forget loss rose suppresses rather than removes.
 */
public final class FeaturePersistence {
    /**
     * @param latents        forget latents found in the target
     * @param persistence    mean persistence over them (NaN with none)
     * @param removed        share of them with persistence below ½
     * @param targetFiring   their mean firing frequency on the target's forget tokens
     * @param modelFiring    their mean firing frequency on the model's forget tokens
     */
    public record Result(int latents, double persistence, double removed, double targetFiring, double modelFiring) {
    }

    private FeaturePersistence() {
    }

    /** Frequencies are per latent: the share of tokens on which it fires (code &gt; 0). */
    public static Result of(double[] targetForget, double[] targetRetain, double[] modelForget, double minFrequency, double ratio) {
        int n = 0, removed = 0;
        double persistence = 0, target = 0, model = 0;
        for (int i = 0; i < targetForget.length; i++) {
            if (targetForget[i] >= minFrequency && targetForget[i] >= ratio * targetRetain[i]) {
                double p = modelForget[i] / targetForget[i];
                n++;
                persistence += p;
                removed += p < 0.5 ? 1 : 0;
                target += targetForget[i];
                model += modelForget[i];
            }
        }
        return n == 0 ? new Result(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN)
                : new Result(n, persistence / n, (double) removed / n, target / n, model / n);
    }
}
