package io.loupe.dict;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.Random;

/**
 * Rows held as one tensor, served in a seeded random order: each epoch is a fresh permutation, and a
 * batch is one gather. Deterministic for a given seed.
 */
public final class InMemorySource implements ActivationSource {
    private final NDArray rows;
    private final int n;
    private final Random rnd;
    private int[] order;
    private int cursor;

    /** @param rows {@code [n, width]} float32; kept, not copied */
    public InMemorySource(NDArray rows, long seed) {
        if (rows.getShape().dimension() != 2 || rows.getShape().get(0) == 0) {
            throw new IllegalArgumentException("need a non-empty [n, width] matrix, got " + rows.getShape());
        }
        this.rows = rows;
        this.n = (int) rows.getShape().get(0);
        this.rnd = new Random(seed);
        shuffle();
    }

    private void shuffle() {
        order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        cursor = 0;
    }

    @Override
    public NDArray next(NDManager manager, int count) {
        long[] idx = new long[count];
        for (int i = 0; i < count; i++) {
            if (cursor == n) {
                shuffle();
            }
            idx[i] = order[cursor++];
        }
        NDArray index = manager.create(idx);
        return rows.get(manager, new ai.djl.ndarray.index.NDIndex("{}", index)).reshape(new Shape(count, width()));
    }

    /** Advances the order without gathering: the same reshuffles, in the same sequence, as reading would do. */
    @Override
    public void skip(NDManager manager, long rows) {
        for (long i = 0; i < rows; i++) {
            if (cursor == n) {
                shuffle();
            }
            cursor++;
        }
    }

    @Override
    public int width() {
        return (int) rows.getShape().get(1);
    }
}
