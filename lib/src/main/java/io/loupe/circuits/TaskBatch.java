package io.loupe.circuits;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.loupe.model.TokenBatch;

import java.util.ArrayList;
import java.util.List;

/**
 * A batch of task examples as tensors: clean and corrupted prompts padded on the right the same way
 * (they have equal lengths), with the answer position and the two answer tokens.
 *
 * @param clean     clean prompts {@code [B, T]}
 * @param corrupt   corrupted prompts {@code [B, T]}
 * @param answerPos {@code [B]} int64
 * @param answer    {@code [B]} int64
 * @param wrong     {@code [B]} int64
 */
public record TaskBatch(TokenBatch clean, TokenBatch corrupt, NDArray answerPos, NDArray answer, NDArray wrong) {

    public static TaskBatch of(NDManager m, List<TaskExample> examples) {
        List<long[]> clean = new ArrayList<>(), corrupt = new ArrayList<>();
        long[] pos = new long[examples.size()], ans = new long[examples.size()], wrong = new long[examples.size()];
        for (int i = 0; i < examples.size(); i++) {
            TaskExample e = examples.get(i);
            clean.add(e.clean());
            corrupt.add(e.corrupt());
            pos[i] = e.answerPos();
            ans[i] = e.answer();
            wrong[i] = e.wrong();
        }
        return new TaskBatch(TokenBatch.of(m, clean, 0), TokenBatch.of(m, corrupt, 0), m.create(pos), m.create(ans), m.create(wrong));
    }

    public int size() {
        return clean.batchSize();
    }

    /** The prompts that are patched from ({@code source}) or into ({@code !source}) for a direction. */
    public TokenBatch prompts(Direction d, boolean source) {
        return d.fromClean() == source ? clean : corrupt;
    }

    /** Logit differences of {@code logits} {@code [copies·B, T, V]} whose rows repeat this batch {@code copies} times: {@code [copies·B]}. */
    public NDArray metric(NDArray logits, int copies) {
        return LogitDiff.of(logits, repeatRows(answerPos, copies), repeatRows(answer, copies), repeatRows(wrong, copies));
    }

    /** {@code tokens} repeated {@code copies} times along the batch axis, in {@code m}: row {@code j·B + b} is example b. */
    public static TokenBatch repeat(TokenBatch tokens, int copies, NDManager m) {
        int[] lengths = new int[tokens.batchSize() * copies];
        for (int j = 0; j < copies; j++) {
            System.arraycopy(tokens.lengths(), 0, lengths, j * tokens.batchSize(), tokens.batchSize());
        }
        NDArray ids = repeatRows(tokens.ids(), copies);
        NDArray mask = repeatRows(tokens.mask(), copies);
        ids.attach(m);
        mask.attach(m);
        return new TokenBatch(ids, mask, lengths);
    }

    /** {@code a} repeated {@code copies} times along axis 0: {@code [B, ...] → [copies·B, ...]}, copy j first at row j·B. */
    public static NDArray repeatRows(NDArray a, int copies) {
        long[] reps = new long[a.getShape().dimension()];
        java.util.Arrays.fill(reps, 1);
        reps[0] = copies;
        return a.tile(reps);
    }
}
