package io.loupe.unlearn.metrics;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Parametric knowledge traces in the style of ConceptVectors (Hong et al. 2024, "Intrinsic Evaluation of Unlearning
 * Using Parametric Knowledge Traces"). An MLP value vector is a column of a layer's down projection ({@code W_down[:, i]},
 * what neuron i writes to the residual stream); its vocabulary projection {@code W_U v} ranks tokens. The vectors whose
 * top-K tokens in the target include a token of a forget answer are the concept vectors; for each model, how far it
 * moved them from the target's: cosine similarity, L2 distance, and the Jaccard similarity of the two top-K token sets.
 * (A model that merely suppresses the answer leaves them in place; one that removed it changes them.)
 */
public final class ConceptVectors {
    /** One traced vector: where it is and how far the model moved it. */
    public record Trace(int layer, int neuron, double cosine, double l2, double jaccard) implements java.io.Serializable {
    }

    /** Mean movement over the traced vectors (NaN when none were selected). */
    public record Summary(int vectors, double meanCosine, double meanL2, double meanJaccard) implements java.io.Serializable {
        public static Summary of(List<Trace> traces) {
            return new Summary(traces.size(), traces.stream().mapToDouble(Trace::cosine).average().orElse(Double.NaN),
                    traces.stream().mapToDouble(Trace::l2).average().orElse(Double.NaN),
                    traces.stream().mapToDouble(Trace::jaccard).average().orElse(Double.NaN));
        }
    }

    private ConceptVectors() {
    }

    /**
     * The top-K token ids of each value vector of one layer.
     *
     * @param down    the down projection {@code [d_model][d_mlp]} (Hugging Face layout, row-major)
     * @param unembed the unembedding {@code [vocab][d_model]}
     */
    public static int[][] topTokens(float[][] down, float[][] unembed, int k) {
        int d = down.length, mlp = down[0].length, vocab = unembed.length;
        int[][] out = new int[mlp][];
        double[] scores = new double[vocab];
        for (int i = 0; i < mlp; i++) {
            for (int v = 0; v < vocab; v++) {
                double s = 0;
                for (int j = 0; j < d; j++) {
                    s += (double) unembed[v][j] * down[j][i];
                }
                scores[v] = s;
            }
            out[i] = topK(scores, Math.min(k, vocab));
        }
        return out;
    }

    /**
     * Traces the target's concept vectors of one layer in a model.
     *
     * @param targetTop    {@link #topTokens} of the target's layer
     * @param modelTop     the same for the model
     * @param answerTokens the forget answers' token ids
     */
    public static List<Trace> trace(int layer, float[][] targetDown, float[][] modelDown, int[][] targetTop, int[][] modelTop, Set<Integer> answerTokens) {
        List<Trace> out = new ArrayList<>();
        for (int i = 0; i < targetTop.length; i++) {
            boolean concept = false;
            for (int t : targetTop[i]) {
                concept |= answerTokens.contains(t);
            }
            if (!concept) {
                continue;
            }
            double dot = 0, na = 0, nb = 0, sq = 0;
            for (int j = 0; j < targetDown.length; j++) {
                double a = targetDown[j][i], b = modelDown[j][i];
                dot += a * b;
                na += a * a;
                nb += b * b;
                sq += (a - b) * (a - b);
            }
            out.add(new Trace(layer, i, dot / Math.sqrt(na * nb), Math.sqrt(sq), jaccard(targetTop[i], modelTop[i])));
        }
        return out;
    }

    static double jaccard(int[] a, int[] b) {
        Set<Integer> sa = new HashSet<>(), union = new HashSet<>();
        for (int x : a) {
            sa.add(x);
            union.add(x);
        }
        int inter = 0;
        for (int x : b) {
            if (sa.contains(x)) {
                inter++;
            }
            union.add(x);
        }
        return union.isEmpty() ? Double.NaN : (double) inter / union.size();
    }

    /** Indices of the k largest values, largest first (ties by lower index). */
    static int[] topK(double[] values, int k) {
        Integer[] idx = new Integer[values.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        java.util.Arrays.sort(idx, (a, b) -> values[a] != values[b] ? Double.compare(values[b], values[a]) : Integer.compare(a, b));
        int[] out = new int[k];
        for (int i = 0; i < k; i++) {
            out[i] = idx[i];
        }
        return out;
    }
}
