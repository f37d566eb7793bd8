package io.loupe.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * Loaded models (or anything closeable) kept for reuse, by key: a user pins an entry with {@link #acquire} and unpins
 * it with {@link #release}; when a release leaves more than {@code capacity} held, the least recently used unpinned
 * entries are closed. A pinned entry is never closed, so while more than capacity are in use the pool holds them all.
 *
 * <p>Why: an executor that works through a checkpoint series (sparsity laws over Pythia's 154 steps, unlearning scores
 * over a method grid) would otherwise keep every model it ever loaded until it runs out of memory.
 *
 * <p>Evicting on release, not on acquire, keeps a task's shared models: an unlearning-score task uses its model with
 * the reference, target and retrain models; evicting when the next task's model arrives would close one of the three
 * shared ones (released longest ago) just before that task asks for it again.
 *
 * @param <V> the value; {@link AutoCloseable#close} frees it
 */
public final class ModelPool<V extends AutoCloseable> {
    /** Loads a value when its key is not held. */
    @FunctionalInterface
    public interface Loader<V> {
        V load() throws IOException;
    }

    private static final class Entry<V> {
        V value;
        int pins;
    }

    private final int capacity;
    /** In access order: the least recently acquired or released first. Guarded by {@code this}. */
    private final LinkedHashMap<String, Entry<V>> entries = new LinkedHashMap<>(16, 0.75f, true);

    public ModelPool(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("a model pool needs a capacity of at least 1, got " + capacity);
        }
        this.capacity = capacity;
    }

    /**
     * The value of {@code key}, pinned until a matching {@link #release}; loaded by {@code loader} if not held, once
     * even when several threads ask at the same time (the others wait for it). A failed load pins nothing.
     */
    public V acquire(String key, Loader<V> loader) throws IOException {
        Entry<V> e;
        synchronized (this) {
            e = entries.computeIfAbsent(key, k -> new Entry<>());
            e.pins++;
        }
        try {
            synchronized (e) {
                if (e.value == null) {
                    e.value = loader.load();
                }
            }
        } catch (IOException | RuntimeException | Error failed) {
            synchronized (this) {
                e.pins--;
                if (e.value == null && e.pins == 0) {
                    entries.remove(key, e);
                }
            }
            throw failed;
        }
        return e.value;
    }

    /** Unpins one {@link #acquire} of {@code key}; the value stays held (most recently used) until evicted. */
    public void release(String key) {
        synchronized (this) {
            Entry<V> e = entries.get(key);
            if (e == null || e.pins == 0) {
                throw new IllegalStateException("release of " + key + " with no acquire outstanding");
            }
            e.pins--;
        }
        closeUnpinnedBeyondCapacity();
    }

    /** Values held now, pinned or not. */
    public synchronized int size() {
        return entries.size();
    }

    /** Whether {@code key} is held now. */
    public synchronized boolean holds(String key) {
        return entries.containsKey(key);
    }

    private void closeUnpinnedBeyondCapacity() {
        List<AutoCloseable> closing = new ArrayList<>();
        synchronized (this) {
            int excess = entries.size() - capacity;
            for (Iterator<Entry<V>> it = entries.values().iterator(); excess > 0 && it.hasNext(); ) {
                Entry<V> e = it.next();
                if (e.pins == 0 && e.value != null) {
                    it.remove();
                    closing.add(e.value);
                    excess--;
                }
            }
        }
        for (AutoCloseable c : closing) {   // outside the lock: closing a model can take a while
            try {
                c.close();
            } catch (Exception ex) {
                throw new UncheckedIOException(new IOException("could not close an evicted model: " + ex.getMessage(), ex));
            }
        }
    }
}
