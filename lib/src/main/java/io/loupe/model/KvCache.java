package io.loupe.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * The keys and values of every position a model has already run, per layer, so that decoding one more
 * token runs only that token: {@code forward(batch, hooks, cache)} appends the batch's positions to the
 * cache and attends over all of them. Rows may be left-padded (positions count real tokens only, as in the
 * full forward), so sequences of different lengths decode together.
 *
 * <p>Keys are stored after rotary embedding, keys and values per query head: {@code [batch, heads, capacity, d_head]}
 * buffers written in place (capacity doubles when full), so a decoding step copies only its own positions. The
 * cache owns its arrays (a sub-manager of the model's); close it when decoding ends.
 */
public final class KvCache implements AutoCloseable {
    private final NDManager manager;
    private final NDArray[] keys;
    private final NDArray[] values;
    private long length;
    private NDArray keyMask;      // [B, capacity] int64, 1 at real tokens written so far
    private NDArray realTokens;   // [B] int64, real tokens so far (the next position)

    public KvCache(LanguageModel model) {
        this.manager = model.manager().newSubManager();
        this.keys = new NDArray[model.config().numLayers()];
        this.values = new NDArray[model.config().numLayers()];
    }

    /** Positions cached so far (padding included). */
    public long length() {
        return length;
    }

    /** {@code [B, past]} real-token mask of the cached positions. */
    NDArray keyMask() {
        return keyMask.get(new NDIndex(":, :{}", length));
    }

    /** {@code [B]} real tokens cached per row. */
    NDArray realTokens() {
        return realTokens;
    }

    /**
     * Writes a layer's new keys and values {@code [B, H, n, dh]} after the cached ones and returns all of them
     * {@code [B, H, past + n, dh]} (views of the buffers).
     */
    NDArray[] append(int layer, NDArray k, NDArray v) {
        long n = k.getShape().get(2);
        keys[layer] = write(keys[layer], k, n);
        values[layer] = write(values[layer], v, n);
        NDIndex upTo = new NDIndex(":, :, :{}", length + n);
        return new NDArray[]{keys[layer].get(upTo), values[layer].get(upTo)};
    }

    /** Records the new positions' mask after every layer has been appended. */
    void advance(NDArray newMask) {
        long n = newMask.getShape().get(1);
        keyMask = write2d(keyMask, newMask, n);
        length += n;
        NDArray count = keyMask().sum(new int[]{1});
        if (realTokens != null) {
            realTokens.close();
        }
        realTokens = own(count);
    }

    private NDArray write(NDArray buffer, NDArray fresh, long n) {
        Shape s = fresh.getShape();
        buffer = ensure(buffer, new Shape(s.get(0), s.get(1), capacity(buffer, 2, n), s.get(3)), fresh, 2);
        buffer.set(new NDIndex(":, :, {}:{}", length, length + n), fresh);
        return buffer;
    }

    private NDArray write2d(NDArray buffer, NDArray fresh, long n) {
        buffer = ensure(buffer, new Shape(fresh.getShape().get(0), capacity(buffer, 1, n)), fresh, 1);
        buffer.set(new NDIndex(":, {}:{}", length, length + n), fresh);
        return buffer;
    }

    private long capacity(NDArray buffer, int axis, long n) {
        long have = buffer == null ? 0 : buffer.getShape().get(axis);
        long need = length + n;
        return have >= need ? have : Math.max(need, 2 * have);
    }

    /** The buffer, grown to {@code shape} (old contents kept) when it is smaller; new buffers are in the cache's manager. */
    private NDArray ensure(NDArray buffer, Shape shape, NDArray like, int axis) {
        if (buffer != null && buffer.getShape().equals(shape)) {
            return buffer;
        }
        NDArray grown = manager.zeros(shape, like.getDataType());
        NDScope.unregister(grown);   // created inside the model's per-layer scope, but lives as long as the cache
        if (buffer != null) {
            grown.set(axis == 2 ? new NDIndex(":, :, :{}", length) : new NDIndex(":, :{}", length), buffer.get(
                    axis == 2 ? new NDIndex(":, :, :{}", length) : new NDIndex(":, :{}", length)));
            buffer.close();
        }
        return grown;
    }

    private NDArray own(NDArray fresh) {
        NDScope.unregister(fresh);
        fresh.attach(manager);
        return fresh;
    }

    @Override
    public void close() {
        manager.close();
    }
}
