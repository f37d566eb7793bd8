package io.loupe.model;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Independent inference jobs (forward passes of different batches) run side by side: {@code workers} threads, each with
 * libtorch's grad mode off and {@code max(1, threads / workers)} intra-op threads, where {@code threads} is the caller's
 * libtorch thread count. Results reach the caller on its own thread, in submission order, so what it writes does not
 * depend on timing.
 *
 * <p>Why: on a CPU, one pass is a chain of kernels, many too small to split well over threads (norms, rotary, softmax,
 * the attention products of one query block), and each split costs a fork and a join. Passes that each own a core keep
 * every core busy with whole kernels. On the 2-core test host, two single-threaded passes of the 25M model gave 5-7%
 * more tokens/s than one two-threaded pass (README, Performance). On a GPU one worker: kernels already queue on the device.
 *
 * <p>At most {@code workers + 1} jobs are in flight, so memory holds that many batches' results, not all of them.
 */
public final class InferenceWorkers {
    /**
     * Worker threads live as long as the JVM, one daemon pool per worker count: a new thread's first passes are slow
     * (its malloc arena and libtorch's per-thread state start cold), and a pool made per run measured ~0.3 s more per
     * pass of the 25M model than one kept.
     */
    private static final Map<Integer, ExecutorService> POOLS = new ConcurrentHashMap<>();

    private InferenceWorkers() {
    }

    /** The workers a caller asked for, where 0 means {@link #auto}; a negative count is refused. */
    public static int resolve(int requested, Device device, int jobs) {
        if (requested < 0) {
            throw new IllegalArgumentException("workers must be >= 0 (0: automatic), got " + requested);
        }
        return requested > 0 ? requested : auto(device, jobs);
    }

    /** Workers for {@code jobs} jobs on {@code device}: one on a GPU, else one per libtorch thread, at most one per job. */
    public static int auto(Device device, int jobs) {
        if (device.isGpu()) {
            return 1;
        }
        return Math.max(1, Math.min(JniUtils.getNumThreads(), jobs));
    }

    /**
     * Runs {@code jobs} on {@code workers} threads (at most one per job) and hands each result to {@code inOrder} on the
     * calling thread, in the jobs' order. With one worker (or one job) everything runs on the calling thread, as a plain
     * loop. The first failure (of a job or of {@code inOrder}) stops the run and is rethrown, a job's unchecked exception
     * as itself, once every job already started has ended: none still uses the model when this returns. Results never
     * handed over that are {@link AutoCloseable} (a pass's arrays) are closed.
     */
    public static <T> void run(int workers, List<? extends Callable<T>> jobs, Consumer<? super T> inOrder) {
        if (workers < 1) {
            throw new IllegalArgumentException("workers must be >= 1, got " + workers);
        }
        workers = Math.min(workers, jobs.size());
        if (workers <= 1) {
            for (Callable<T> job : jobs) {
                inOrder.accept(call(job));
            }
            return;
        }
        int callerThreads = JniUtils.getNumThreads();
        int each = Math.max(1, callerThreads / workers);
        ExecutorService pool = POOLS.computeIfAbsent(workers, InferenceWorkers::newPool);
        Deque<Future<T>> inFlight = new ArrayDeque<>();
        AtomicBoolean stop = new AtomicBoolean();
        try {
            int next = 0;
            while (next < jobs.size() || !inFlight.isEmpty()) {
                // One job more than workers: a worker finds its next job queued while the caller consumes a result.
                while (next < jobs.size() && inFlight.size() <= workers) {
                    Callable<T> job = jobs.get(next++);
                    inFlight.add(pool.submit(() -> {
                        if (stop.get()) {
                            return null;   // the run has failed: not started, so nothing to wait for
                        }
                        // Both are per thread in libtorch (grad mode; OpenMP's and MKL's thread counts), so each job sets them.
                        JniUtils.setGradMode(false);
                        JniUtils.setNumThreads(each);
                        return job.call();
                    }));
                }
                inOrder.accept(await(inFlight.poll()));
            }
        } finally {
            stop.set(true);
            discard(inFlight);
            // at::set_num_threads also sets the count that threads started later take on: give the caller's back.
            JniUtils.setNumThreads(callerThreads);
        }
    }

    /**
     * After a failure: jobs not yet started return at once ({@code stop}); those running (libtorch does not heed
     * interrupts) are waited for, so that the caller may close the model; every result is closed.
     */
    private static <T> void discard(Deque<Future<T>> inFlight) {
        boolean interrupted = false;
        for (Future<T> f : inFlight) {
            while (true) {
                try {
                    closeQuietly(f.get());
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    break;   // the run's first failure is already on its way up
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(Object result) {
        if (result instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception ignored) {
                // a result nobody reads; the run's own failure is what the caller sees
            }
        }
    }

    private static ExecutorService newPool(int workers) {
        AtomicInteger named = new AtomicInteger();
        return Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "loupe-inference-" + workers + "-" + named.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    private static <T> T call(Callable<T> job) {
        try {
            return job.call();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    private static <T> T await(Future<T> result) {
        try {
            return result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a forward pass", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause.getMessage(), cause);
        }
    }
}
