package io.loupe.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

import java.util.List;

/**
 * Token sequences padded into one batch (on the right, or on the left for decoding).
 *
 * @param ids     token ids {@code [batch, seq]} int64; padding positions hold {@code padId}
 * @param mask    1 for real tokens, 0 for padding {@code [batch, seq]} int64
 * @param lengths real length of each sequence
 */
public record TokenBatch(NDArray ids, NDArray mask, int[] lengths) {

    /** Pads {@code sequences} on the right to the longest one, in {@code manager} (use a sub-manager of the model's). */
    public static TokenBatch of(NDManager manager, List<long[]> sequences, long padId) {
        return padded(manager, sequences, padId, false);
    }

    /** Pads on the left, so every row's last position is real (for decoding several prompts at once). */
    public static TokenBatch leftPadded(NDManager manager, List<long[]> sequences, long padId) {
        return padded(manager, sequences, padId, true);
    }

    private static TokenBatch padded(NDManager manager, List<long[]> sequences, long padId, boolean left) {
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("a batch needs at least one sequence");
        }
        int seq = 0;
        for (long[] s : sequences) {
            if (s.length == 0) {
                throw new IllegalArgumentException("a sequence in the batch has no tokens");
            }
            seq = Math.max(seq, s.length);
        }
        long[][] ids = new long[sequences.size()][seq];
        long[][] mask = new long[sequences.size()][seq];
        int[] lengths = new int[sequences.size()];
        for (int b = 0; b < sequences.size(); b++) {
            long[] s = sequences.get(b);
            lengths[b] = s.length;
            int shift = left ? seq - s.length : 0;
            for (int t = 0; t < seq; t++) {
                int i = t - shift;
                boolean real = i >= 0 && i < s.length;
                ids[b][t] = real ? s[i] : padId;
                mask[b][t] = real ? 1 : 0;
            }
        }
        return new TokenBatch(manager.create(ids), manager.create(mask), lengths);
    }

    public int batchSize() {
        return lengths.length;
    }

    public int seqLen() {
        return (int) ids.getShape().get(1);
    }

    public long realTokens() {
        long n = 0;
        for (int l : lengths) {
            n += l;
        }
        return n;
    }

    public NDManager manager() {
        return ids.getManager();
    }

    /** The mask as floats of {@code type}, for arithmetic. */
    NDArray maskAs(DataType type) {
        return mask.toType(type, false);
    }
}
