package io.loupe.collect;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns tokenised documents into the sequences a collect run feeds the model.
 * Truncation keeps each document's first {@code maxSeqLen} tokens. Packing concatenates the documents
 * in the order given and cuts the stream into windows of exactly {@code contextSize} tokens (the last
 * window may be shorter), as dictionary training wants: no padding, no token dropped. A window's id is
 * {@code <id of the document it starts in>@<offset in that document>}, unique and stable for the same input.
 */
public final class Packing {
    private Packing() {
    }

    /** Each document alone, cut to at most {@code maxSeqLen} tokens (0: no limit). */
    public static List<Example> truncate(List<Example> docs, int maxSeqLen) {
        List<Example> out = new ArrayList<>(docs.size());
        for (Example d : docs) {
            out.add(maxSeqLen > 0 && d.tokens().length > maxSeqLen ? new Example(d.id(), Arrays.copyOf(d.tokens(), maxSeqLen)) : d);
        }
        return out;
    }

    /** Documents concatenated in order and cut into windows of {@code contextSize} tokens. */
    public static List<Example> pack(List<Example> docs, int contextSize) {
        if (contextSize < 1) {
            throw new IllegalArgumentException("context size must be >= 1, got " + contextSize);
        }
        List<Example> out = new ArrayList<>();
        long[] window = new long[contextSize];
        int filled = 0;
        String windowId = null;
        for (Example d : docs) {
            long[] t = d.tokens();
            for (int off = 0; off < t.length; ) {
                if (filled == 0) {
                    windowId = d.id() + "@" + off;
                }
                int n = Math.min(contextSize - filled, t.length - off);
                System.arraycopy(t, off, window, filled, n);
                filled += n;
                off += n;
                if (filled == contextSize) {
                    out.add(new Example(windowId, window.clone()));
                    filled = 0;
                }
            }
        }
        if (filled > 0) {
            out.add(new Example(windowId, Arrays.copyOf(window, filled)));
        }
        return out;
    }
}
