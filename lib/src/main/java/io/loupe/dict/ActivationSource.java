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
}
