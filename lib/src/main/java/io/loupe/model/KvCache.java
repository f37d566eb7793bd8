package io.loupe.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;

/**
 * The keys and values of every position a model has already run, per layer, so that decoding one more
 * token runs only that token: {@code forward(batch, hooks, cache)} appends the batch's positions to the
 * cache and attends over all of them. Rows may be left-padded (positions count real tokens only, as in the
 * full forward), so sequences of different lengths decode together.
 *
 * <p>Keys are stored after rotary embedding, keys and values per query head: {@code [batch, heads, past, d_head]}.
 * The cache owns its arrays (a sub-manager of the model's); close it when decoding ends.
 */
public final class KvCache implements AutoCloseable {
    private final NDManager manager;
    private final NDArray[] keys;
    private final NDArray[] values;
    private NDArray keyMask;      // [B, past] int64, 1 at real tokens
    private NDArray realTokens;   // [B] int64, real tokens so far (the next position)

    public KvCache(LanguageModel model) {
        this.manager = model.manager().newSubManager();
        this.keys = new NDArray[model.config().numLayers()];
        this.values = new NDArray[model.config().numLayers()];
    }

    /** Positions cached so far (padding included). */
    public long length() {
        return keyMask == null ? 0 : keyMask.getShape().get(1);
    }

    /** {@code [B, past]} real-token mask of the cached positions, or null when empty. */
    NDArray keyMask() {
        return keyMask;
    }

    /** {@code [B]} real tokens cached per row, or null when empty. */
    NDArray realTokens() {
        return realTokens;
    }

    NDArray keys(int layer) {
        return keys[layer];
    }

    NDArray values(int layer) {
        return values[layer];
    }

    /** Replaces a layer's keys and values (already including the new positions). */
    void setLayer(int layer, NDArray k, NDArray v) {
        keys[layer] = keep(keys[layer], k);
        values[layer] = keep(values[layer], v);
    }

    /** Records the new positions' mask after every layer has been updated. */
    void append(NDArray newMask) {
        NDArray all = keyMask == null ? newMask : keyMask.concat(newMask, 1);
        NDArray count = all.sum(new int[]{1});
        keyMask = keep(keyMask, all);
        realTokens = keep(realTokens, count);
    }

    /** Moves {@code fresh} into the cache's manager (libtorch keeps a view's storage alive) and frees {@code old}. */
    private NDArray keep(NDArray old, NDArray fresh) {
        NDScope.unregister(fresh);
        fresh.attach(manager);
        if (old != null) {
            old.close();
        }
        return fresh;
    }

    @Override
    public void close() {
        manager.close();
    }
}
