package io.loupe.model;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelPoolTest {
    /** A stand-in value that records whether it was closed (the pool's contract is only AutoCloseable). */
    private static final class Held implements AutoCloseable {
        final String name;
        boolean closed;

        Held(String name) {
            this.name = name;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private static Held use(ModelPool<Held> pool, String key, List<Held> loaded) throws IOException {
        Held h = pool.acquire(key, () -> {
            Held fresh = new Held(key);
            loaded.add(fresh);
            return fresh;
        });
        pool.release(key);
        return h;
    }

    /** A checkpoint series through a pool of 2: each new model closes the least recently used idle one; a reused one is not reloaded. */
    @Test
    void keepsAtMostCapacityIdleAndClosesTheLeastRecentlyUsed() throws IOException {
        ModelPool<Held> pool = new ModelPool<>(2);
        List<Held> loaded = new ArrayList<>();
        Held a = use(pool, "step1000", loaded), b = use(pool, "step2000", loaded);
        assertSame(a, use(pool, "step1000", loaded), "held: not loaded again");
        Held c = use(pool, "step3000", loaded);          // step2000 is now the least recently used
        assertTrue(b.closed);
        assertFalse(a.closed || c.closed);
        assertEquals(2, pool.size());
        assertFalse(pool.holds("step2000"));
        assertEquals(3, loaded.size());
        use(pool, "step2000", loaded);                   // evicted earlier, so loaded again
        assertEquals(4, loaded.size());
        assertTrue(a.closed, "step1000 was the least recently used");
    }

    /** Models in use are never closed: the unlearning score pins four at once, whatever the capacity. */
    @Test
    void pinnedValuesOutliveTheCapacity() throws IOException {
        ModelPool<Held> pool = new ModelPool<>(1);
        List<Held> all = new ArrayList<>();
        for (String k : List.of("model", "reference", "target", "retrain")) {
            all.add(pool.acquire(k, () -> new Held(k)));
        }
        assertEquals(4, pool.size());
        assertTrue(all.stream().noneMatch(h -> h.closed));
        for (String k : List.of("model", "reference", "target")) {
            pool.release(k);
        }
        assertEquals(1, pool.size(), "released beyond a capacity of 1: closed; the pinned one stays");
        assertTrue(all.get(0).closed && all.get(1).closed && all.get(2).closed && !all.get(3).closed);
        pool.release("retrain");
        assertEquals(1, pool.size());
        assertFalse(all.get(3).closed, "within capacity, the last one stays loaded for the next task");
    }

    /**
     * Unlearning-score tasks, each using its own model with the shared reference, target and retrain models, pinned
     * together and released when the task ends (Spark runs completion listeners last-registered first): with room for
     * four, the shared ones are loaded once and each task's own model is the one closed afterwards.
     */
    @Test
    void sharedModelsSurviveTasksThatEachBringANewOne() throws IOException {
        ModelPool<Held> pool = new ModelPool<>(4);
        AtomicInteger loads = new AtomicInteger();
        List<Held> own = new ArrayList<>();
        for (int task = 0; task < 5; task++) {
            List<String> keys = List.of("unlearned-" + task, "reference", "target", "retrain");
            for (String k : keys) {
                Held h = pool.acquire(k, () -> {
                    loads.incrementAndGet();
                    return new Held(k);
                });
                if (k.startsWith("unlearned")) {
                    own.add(h);
                }
            }
            for (int i = keys.size() - 1; i >= 0; i--) {
                pool.release(keys.get(i));
            }
        }
        assertEquals(5 + 3, loads.get(), "five unlearned models, and the three shared ones once");
        assertEquals(4, pool.size());
        assertTrue(own.subList(0, 4).stream().allMatch(h -> h.closed) && !own.get(4).closed);
    }

    @Test
    void concurrentRequestsLoadOnce() throws Exception {
        ModelPool<Held> pool = new ModelPool<>(2);
        AtomicInteger loads = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            List<Future<Held>> got = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                got.add(threads.submit(() -> {
                    start.await();
                    return pool.acquire("m", () -> {
                        loads.incrementAndGet();
                        try {
                            Thread.sleep(50);   // a slow load: the others arrive while it runs
                        } catch (InterruptedException ie) {
                            throw new IOException(ie);
                        }
                        return new Held("m");
                    });
                }));
            }
            start.countDown();
            Held first = got.get(0).get();
            for (Future<Held> f : got) {
                assertSame(first, f.get());
            }
            assertEquals(1, loads.get());
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void aFailedLoadHoldsNothingAndMisuseIsRefused() {
        ModelPool<Held> pool = new ModelPool<>(2);
        IOException e = assertThrows(IOException.class, () -> pool.acquire("missing", () -> {
            throw new IOException("no config.json");
        }));
        assertEquals("no config.json", e.getMessage());
        assertEquals(0, pool.size());
        assertThrows(IllegalStateException.class, () -> pool.release("missing"));
        assertThrows(IllegalArgumentException.class, () -> new ModelPool<Held>(0));
    }
}
