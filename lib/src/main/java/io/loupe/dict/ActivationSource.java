package io.loupe.dict;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/** Training rows for a dictionary, one batch at a time. */
public interface ActivationSource {
    /** The next {@code n} rows as {@code [n, d_in]} float32, in {@code manager}. */
    NDArray next(NDManager manager, int n);

    int dIn();
}
