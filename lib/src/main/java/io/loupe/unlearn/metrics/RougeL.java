package io.loupe.unlearn.metrics;

import java.util.ArrayList;
import java.util.List;

/**
 * ROUGE-L as google-research's {@code rouge_scorer} computes it without stemming: both texts lower-cased, every run of
 * characters outside {@code [a-z0-9]} made a space, split on spaces; then the longest common subsequence (LCS) of the
 * two token lists, {@code recall = LCS / |reference|}, {@code precision = LCS / |prediction|},
 * {@code F1 = 2PR / (P + R)} (all 0 when either list is empty or nothing matches). MUSE's VerbMem and KnowMem use F1;
 * TOFU's utility uses recall (TOFU stems; Loupe does not, so both read the same tokens: one definition).
 */
public final class RougeL {
    /** The three ROUGE-L figures of a prediction against a reference. */
    public record Score(double precision, double recall, double f1) {
    }

    private RougeL() {
    }

    public static Score score(String reference, String prediction) {
        List<String> ref = tokens(reference), pred = tokens(prediction);
        if (ref.isEmpty() || pred.isEmpty()) {
            return new Score(0, 0, 0);
        }
        int lcs = lcs(ref, pred);
        double p = (double) lcs / pred.size(), r = (double) lcs / ref.size();
        return new Score(p, r, p + r == 0 ? 0 : 2 * p * r / (p + r));
    }

    /** rouge_scorer's tokenizer without a stemmer. */
    public static List<String> tokens(String text) {
        List<String> out = new ArrayList<>();
        for (String t : text.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", " ").trim().split(" ")) {
            if (!t.isEmpty()) {
                out.add(t);
            }
        }
        return out;
    }

    /** Length of the longest common subsequence, by dynamic programming over two rows. */
    static int lcs(List<String> a, List<String> b) {
        int[] prev = new int[b.size() + 1], cur = new int[b.size() + 1];
        for (int i = 1; i <= a.size(); i++) {
            for (int j = 1; j <= b.size(); j++) {
                cur[j] = a.get(i - 1).equals(b.get(j - 1)) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.size()];
    }
}
