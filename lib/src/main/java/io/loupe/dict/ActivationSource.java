package io.loupe.dict;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Training rows for a dictionary, one batch at a time. A row is the dictionary's input, followed, for a
 * transcoder, by its target ({@link SaeConfig#rowWidth}).
 */
public interface ActivationSource {
    /** The next {@code n} rows as {@code [n, width]} float32, in {@code manager}. */
    NDArray next(NDManager manager, int n);

    /** Values per row. */
    int width();

    /**
     * Moves past the next {@code rows} rows as if they had been read, so a resumed run sees the same data
     * as an uninterrupted one. The default reads and drops them; sources that can jump do.
     */
    default void skip(NDManager manager, long rows) {
        for (long done = 0; done < rows; ) {
            int n = (int) Math.min(4096, rows - done);
            try (NDManager m = manager.newSubManager()) {
                next(m, n);
            }
            done += n;
        }
    }
}
