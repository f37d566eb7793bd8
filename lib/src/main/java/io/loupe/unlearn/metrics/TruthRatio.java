package io.loupe.unlearn.metrics;

import java.util.Arrays;

/**
 * TOFU's truth ratio (Maini et al. 2024, "TOFU: A Task of Fictitious Unlearning for LLMs"). With {@code L(a)} the mean
 * NLL per token of answer a (answer tokens plus EOS) after the question:
 * <pre>
 *   R = exp(L_paraphrased − mean_i L_perturbed_i)      (the geometric-mean probability of the wrong answers over the right one)
 *   forget split: min(R, 1/R)        retain split: max(0, 1 − R)
 * </pre>
 * A model that knows the fact gives the paraphrase a higher likelihood than the perturbations: R &lt; 1.
 */
public final class TruthRatio {
    private TruthRatio() {
    }

    /** R for one question. */
    public static double ratio(double paraphrasedLoss, double[] perturbedLosses) {
        if (perturbedLosses.length == 0) {
            throw new IllegalArgumentException("the truth ratio needs at least one perturbed answer");
        }
        return Math.exp(paraphrasedLoss - Arrays.stream(perturbedLosses).average().orElseThrow());
    }

    /** The forget-split statistic {@code min(R, 1/R)}, in (0, 1]. */
    public static double forgetStatistic(double r) {
        return Math.min(r, 1 / r);
    }

    /** The retain-split statistic {@code max(0, 1 − R)}. */
    public static double retainStatistic(double r) {
        return Math.max(0, 1 - r);
    }

    /** The harmonic mean of TOFU's model-utility components (0 if any is 0; NaN values are skipped). */
    public static double harmonicMean(double... values) {
        double sum = 0;
        int n = 0;
        for (double v : values) {
            if (Double.isNaN(v)) {
                continue;
            }
            if (v <= 0) {
                return 0;
            }
            sum += 1 / v;
            n++;
        }
        return n == 0 ? Double.NaN : n / sum;
    }
}
