package io.loupe.train;

/**
 * One training sequence: token ids and the first position whose token is a target. The loss predicts
 * {@code ids[t]} from {@code ids[..t-1]} for {@code firstTarget <= t < ids.length}: 1 for packed text (every
 * token but the first), the first answer token for a question/answer row (the prompt is context only).
 *
 * @param id          where it came from: a document id, {@code <doc>@<offset>} for a packed window, or a QA row's id
 * @param ids         token ids
 * @param firstTarget index of the first target token, 1 &lt;= firstTarget &lt; ids.length
 */
public record TrainSequence(String id, long[] ids, int firstTarget) implements java.io.Serializable {
    public TrainSequence {
        if (ids.length < 2) {
            throw new IllegalArgumentException("sequence '" + id + "' has " + ids.length + " token(s); training needs at least 2");
        }
        if (firstTarget < 1 || firstTarget >= ids.length) {
            throw new IllegalArgumentException("sequence '" + id + "': first target " + firstTarget + " outside 1.." + (ids.length - 1));
        }
    }

    /** Tokens the loss is taken over. */
    public int targets() {
        return ids.length - firstTarget;
    }
}
