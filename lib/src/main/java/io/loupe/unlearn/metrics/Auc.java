package io.loupe.unlearn.metrics;

import java.util.Arrays;

/**
 * Area under the ROC curve of a membership score, members (the forget set) against non-members (the holdout):
 * {@code AUC = P(s_member < s_nonmember) + ½ P(s_member = s_nonmember)} for loss-like scores, which equals sklearn's
 * {@code roc_auc_score} with members labelled 1 on {@code −s}. Computed from midranks in O(n log n). NaN scores are
 * left out (their count is the caller's to report); with no members or no non-members the AUC is NaN.
 */
public final class Auc {
    private Auc() {
    }

    public static double of(double[] members, double[] nonMembers) {
        double[] m = Arrays.stream(members).filter(v -> !Double.isNaN(v)).toArray();
        double[] n = Arrays.stream(nonMembers).filter(v -> !Double.isNaN(v)).toArray();
        if (m.length == 0 || n.length == 0) {
            return Double.NaN;
        }
        // Rank all values of −s ascending with midranks; the Mann-Whitney U of the members is their rank sum minus its minimum.
        int total = m.length + n.length;
        double[] v = new double[total];
        boolean[] isMember = new boolean[total];
        Integer[] order = new Integer[total];
        for (int i = 0; i < total; i++) {
            v[i] = i < m.length ? -m[i] : -n[i - m.length];
            isMember[i] = i < m.length;
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(v[a], v[b]));
        double rankSum = 0;
        for (int i = 0; i < total; ) {
            int j = i;
            while (j + 1 < total && v[order[j + 1]] == v[order[i]]) {
                j++;
            }
            double midrank = (i + j) / 2.0 + 1;
            for (int q = i; q <= j; q++) {
                if (isMember[order[q]]) {
                    rankSum += midrank;
                }
            }
            i = j + 1;
        }
        double u = rankSum - m.length * (m.length + 1) / 2.0;
        return u / ((double) m.length * n.length);
    }

    /**
     * MUSE's PrivLeak (Shi et al. 2024, "MUSE: Machine Unlearning Six-Way Evaluation"), in percent:
     * {@code (AUC'_unlearned − AUC'_retrain) / AUC'_retrain × 100} with MUSE's direction {@code AUC' = 1 − AUC}. Near 0
     * is a model indistinguishable from the retrain; strongly negative is under-unlearning (the forget set still looks
     * like members); positive is over-unlearning.
     */
    public static double privLeak(double aucUnlearned, double aucRetrain) {
        return ((1 - aucUnlearned) - (1 - aucRetrain)) / (1 - aucRetrain) * 100;
    }
}
