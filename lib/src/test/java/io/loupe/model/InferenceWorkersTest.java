package io.loupe.model;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;
import io.loupe.TestData;
import io.loupe.forward.ForwardRunner;
import io.loupe.forward.Prompt;
import io.loupe.hooks.HookPoint;
import io.loupe.tensor.SafetensorsFile;
import io.loupe.tensor.SafetensorsWriter;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class InferenceWorkersTest {
    @BeforeAll
    static void engine() {
        Runtime.engine();
    }

    @Test
    void resultsArriveInJobOrderWhateverOrderJobsFinishIn() {
        List<Callable<Integer>> jobs = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            int n = i;
            jobs.add(() -> {
                Thread.sleep(n % 2 == 0 ? 30 : 1);   // even jobs finish after the odd ones started with them
                return n;
            });
        }
        List<Integer> seen = new ArrayList<>();
        InferenceWorkers.run(3, jobs, seen::add);
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6), seen);
    }

    @Test
    void workersRunWithoutGradModeOnTheirShareOfThreadsAndTheCallerKeepsItsCount() {
        int callerThreads = JniUtils.getNumThreads();
        List<Callable<int[]>> jobs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            jobs.add(() -> new int[]{JniUtils.isGradMode() ? 1 : 0, JniUtils.getNumThreads()});
        }
        List<int[]> seen = new ArrayList<>();
        InferenceWorkers.run(2, jobs, seen::add);
        for (int[] s : seen) {
            assertEquals(0, s[0], "grad mode off in a worker");
            assertEquals(Math.max(1, callerThreads / 2), s[1], "a worker's intra-op threads");
        }
        assertEquals(callerThreads, JniUtils.getNumThreads(), "the caller's thread count");
        // at::set_num_threads also sets the count a thread started later takes on: the run must leave the caller's.
        int[] later = new int[1];
        Thread fresh = new Thread(() -> later[0] = JniUtils.getNumThreads());
        fresh.start();
        join(fresh);
        assertEquals(callerThreads, later[0], "a thread started after the run");
    }

    @Test
    void oneWorkerRunsOnTheCallingThread() {
        Thread caller = Thread.currentThread();
        List<Thread> seen = new ArrayList<>();
        InferenceWorkers.run(1, List.<Callable<Thread>>of(Thread::currentThread, Thread::currentThread), seen::add);
        assertEquals(2, seen.size());
        seen.forEach(t -> assertSame(caller, t));
    }

    @Test
    void atMostOneJobMoreThanWorkersIsInFlight() {
        AtomicInteger started = new AtomicInteger();
        AtomicInteger consumed = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        List<Callable<Integer>> jobs = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            jobs.add(() -> {
                most.accumulateAndGet(started.incrementAndGet() - consumed.get(), Math::max);
                Thread.sleep(2);
                return 0;
            });
        }
        InferenceWorkers.run(2, jobs, r -> {
            consumed.incrementAndGet();
            sleep(5);   // a slow consumer: the workers must wait for it rather than pile up results
        });
        assertEquals(12, consumed.get());
        assertTrue(most.get() <= 3, "jobs started but not consumed: " + most.get());
    }

    @Test
    void aFailingJobStopsTheRunWithItsOwnException() {
        List<Callable<Integer>> jobs = List.of(() -> 1, () -> {
            throw new IllegalArgumentException("prompt 7 is too long");
        }, () -> 3);
        List<Integer> seen = new ArrayList<>();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> InferenceWorkers.run(2, jobs, seen::add));
        assertEquals("prompt 7 is too long", e.getMessage());
        assertEquals(List.of(1), seen);
        assertThrows(IllegalArgumentException.class, () -> InferenceWorkers.run(0, jobs, seen::add));
    }

    /** A failure returns only once the job running beside it has ended, and results nobody took are closed. */
    @Test
    void aFailureWaitsForRunningJobsAndClosesTheirResults() {
        AtomicInteger closed = new AtomicInteger();
        AtomicInteger finished = new AtomicInteger();
        AtomicInteger slowDone = new AtomicInteger();
        List<Callable<AutoCloseable>> jobs = List.of(() -> {
            Thread.sleep(20);
            throw new IllegalStateException("batch 0 failed");
        }, () -> {
            Thread.sleep(200);   // still running when batch 0 fails
            slowDone.incrementAndGet();
            finished.incrementAndGet();
            return closed::incrementAndGet;
        }, () -> {
            finished.incrementAndGet();   // may start before the failure is seen, or never
            return closed::incrementAndGet;
        });
        assertThrows(IllegalStateException.class, () -> InferenceWorkers.run(2, jobs, r -> fail("nothing is handed over")));
        assertEquals(1, slowDone.get(), "the slow job had ended when run returned");
        assertEquals(finished.get(), closed.get(), "every finished result was closed");
    }

    /** forward's outputs do not depend on how many batches run side by side: same names, same values to float rounding. */
    @Test
    void forwardWritesTheSameTensorsWithOneOrThreeWorkers(@TempDir Path tmp) throws IOException {
        Path dir = RandomModels.write(tmp.resolve("model"), 11);
        Random rnd = new Random(5);
        List<Prompt> prompts = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            long[] ids = new long[3 + rnd.nextInt(12)];
            for (int t = 0; t < ids.length; t++) {
                ids[t] = rnd.nextInt(320);
            }
            prompts.add(new Prompt("p" + i, null, ids));
        }
        List<HookPoint> hooks = List.of(HookPoint.parse("blocks.1.hook_resid_post"), HookPoint.parse("blocks.0.attn.hook_pattern"));
        try (LanguageModel model = ModelLoader.load(dir, Device.cpu())) {
            SafetensorsFile one = forward(model, prompts, hooks, 1, tmp.resolve("one.safetensors"));
            SafetensorsFile three = forward(model, prompts, hooks, 3, tmp.resolve("three.safetensors"));
            assertEquals(9 * 3, one.entries().size());
            assertEquals(one.entries().keySet(), three.entries().keySet());
            for (String name : one.entries().keySet()) {
                assertArrayEquals(one.entry(name).shape(), three.entry(name).shape(), name);
                float[] a = TestData.floats(one, name), b = TestData.floats(three, name);
                for (int i = 0; i < a.length; i++) {
                    assertEquals(a[i], b[i], 1e-5, name + "[" + i + "]");
                }
                assertFalse(Float.isNaN(a[0]), name);
            }
        }
    }

    private static SafetensorsFile forward(LanguageModel model, List<Prompt> prompts, List<HookPoint> hooks, int workers, Path out)
            throws IOException {
        SafetensorsWriter writer = new SafetensorsWriter();
        ForwardRunner.Summary s = ForwardRunner.run(model, null, prompts, hooks, 2, workers, writer::put, line -> { });
        assertEquals(5, s.batches());
        writer.write(out);
        return SafetensorsFile.open(out);
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
