package io.loupe.circuits;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;

/**
 * The task metric: logit difference {@code m = logit[answer] − logit[wrong]} at the answer position
 * (Wang et al. 2022, IOI), and its normalised form {@code (m − m_corrupt) / (m_clean − m_corrupt)},
 * which is 0 at the corrupted run and 1 at the clean run.
 */
public final class LogitDiff {
    private LogitDiff() {
    }

    /**
     * @param logits    {@code [B, T, V]}
     * @param answerPos {@code [B]} int64 positions
     * @param answer    {@code [B]} int64 token ids
     * @param wrong     {@code [B]} int64 token ids
     * @return {@code [B]} logit differences
     */
    public static NDArray of(NDArray logits, NDArray answerPos, NDArray answer, NDArray wrong) {
        long b = logits.getShape().get(0), t = logits.getShape().get(1), v = logits.getShape().get(2);
        NDManager m = logits.getManager();
        NDArray rows = m.arange(0, (int) b, 1, answerPos.getDataType()).mul(t).add(answerPos);
        NDArray at = logits.reshape(b * t, v).get(new NDIndex("{}", rows));                       // [B, V]
        NDArray pair = at.gather(answer.reshape(b, 1).concat(wrong.reshape(b, 1), 1), 1);         // [B, 2]
        return pair.get(new NDIndex(":, 0")).sub(pair.get(new NDIndex(":, 1")));
    }

    /** {@code (m − mCorrupt) / (mClean − mCorrupt)}; NaN when the clean and corrupted runs agree (no behaviour to explain). */
    public static double normalised(double m, double mClean, double mCorrupt) {
        double span = mClean - mCorrupt;
        return span == 0 ? Double.NaN : (m - mCorrupt) / span;
    }
}
