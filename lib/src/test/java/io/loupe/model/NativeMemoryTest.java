package io.loupe.model;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class NativeMemoryTest {
    private static final int BLOCKS = 5;

    @Test
    void theUsersOwnMallocSettingsAndTheOptOutWin() {
        assertNull(NativeMemory.reasonToSkip(Map.of(), null, true));
        assertNull(NativeMemory.reasonToSkip(Map.of("GLIBC_TUNABLES", "glibc.pthread.rseq=0"), "tuned", true));
        assertEquals("-Dloupe.malloc=default", NativeMemory.reasonToSkip(Map.of(), "default", true));
        assertEquals("MALLOC_TRIM_THRESHOLD_ is set", NativeMemory.reasonToSkip(Map.of("MALLOC_TRIM_THRESHOLD_", "0"), null, true));
        assertEquals("MALLOC_TOP_PAD_ is set", NativeMemory.reasonToSkip(Map.of("MALLOC_TOP_PAD_", "0"), null, true));
        assertEquals("GLIBC_TUNABLES sets malloc", NativeMemory.reasonToSkip(Map.of("GLIBC_TUNABLES", "glibc.malloc.arena_max=2"), null, true));
        assertEquals("not Linux", NativeMemory.reasonToSkip(Map.of(), null, false));
        // asking for huge pages leaves the thresholds to this class; any other malloc tunable is the user's choice
        assertNull(NativeMemory.reasonToSkip(Map.of("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1"), null, true));
        assertNull(NativeMemory.reasonToSkip(Map.of("GLIBC_TUNABLES", "glibc.pthread.rseq=0:glibc.malloc.hugetlb=1"), null, true));
        assertEquals("GLIBC_TUNABLES sets malloc", NativeMemory.reasonToSkip(Map.of("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1:glibc.malloc.top_pad=0"), null, true));
        assertEquals("GLIBC_TUNABLES sets malloc", NativeMemory.reasonToSkip(Map.of("GLIBC_TUNABLES", "glibc.malloc.hugetlbx=1"), null, true));
        assertEquals("LD_PRELOAD is set (another allocator?)", NativeMemory.reasonToSkip(Map.of("LD_PRELOAD", "/usr/lib/libjemalloc.so"), null, true));
        assertNull(NativeMemory.reasonToSkip(Map.of("LD_PRELOAD", " "), null, true));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NativeMemory.reasonToSkip(Map.of(), "off", true));
        assertTrue(e.getMessage().contains("'tuned' (the default) or 'default'"), e.getMessage());
    }

    /** glibc's allocator, called directly so that the test sees pages, not tensors. */
    private interface LibC extends Library {
        Pointer malloc(long size);

        void free(Pointer p);
    }

    /**
     * Five blocks of 12 MB, freed and allocated again, reuse their pages. With glibc's defaults (or without either
     * setting) the first is unmapped on free and the arena's top is trimmed, so each round faults on every page.
     * Tuned: none in a fresh JVM; one block (20%) after other tests, where the thread reuses an arena that other
     * threads left with free memory at its top, of which only 64 MB is kept.
     */
    @Test
    void freedBlocksAreReusedWithoutPageFaults() throws Exception {
        String skip = NativeMemory.reasonToSkip(System.getenv(), System.getProperty("loupe.malloc"), Platform.isLinux());
        assumeTrue(skip == null, "NativeMemory skips here: " + skip);
        String outcome = NativeMemory.tune();
        assumeTrue(!outcome.contains("not glibc"), outcome);
        assertTrue(outcome.startsWith("malloc tuned"), outcome);
        LibC libc = Native.load("c", LibC.class);
        long block = 12L << 20, pages = BLOCKS * block / 4096;
        AtomicLong fewest = new AtomicLong(Long.MAX_VALUE);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                Path stat = Path.of("/proc/thread-self/stat");   // this thread's own counts
                touchAndFree(libc, block);   // twice first: where the blocks land can differ once, when a heap is added
                touchAndFree(libc, block);
                for (int round = 0; round < 3; round++) {   // the fewest: other threads sharing the arena can split a block
                    long before = minorFaults(stat);
                    touchAndFree(libc, block);
                    fewest.set(Math.min(fewest.get(), minorFaults(stat) - before));
                }
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        t.join();
        if (failure.get() != null) {
            throw new AssertionError("the allocating thread failed", failure.get());
        }
        assertTrue(fewest.get() < pages / 2, "a round faulted at least " + fewest.get() + " pages of " + pages + " (" + outcome + ")");
    }

    private static void touchAndFree(LibC libc, long block) {
        Pointer[] p = new Pointer[BLOCKS];
        for (int i = 0; i < p.length; i++) {
            p[i] = libc.malloc(block);
            p[i].setMemory(0, block, (byte) 1);
        }
        for (Pointer q : p) {
            libc.free(q);
        }
    }

    private static long minorFaults(Path stat) throws Exception {
        String s = Files.readString(stat);
        String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[7]);   // field 10 (minflt) counted from field 3 (state)
    }

    @Test
    void reportsWhetherHugePagesWereAskedFor() {
        assertTrue(NativeMemory.hugePages("glibc.malloc.hugetlb=1").startsWith("huge pages asked for (glibc.malloc.hugetlb=1"));
        assertTrue(NativeMemory.hugePages("glibc.pthread.rseq=0:glibc.malloc.hugetlb=2").startsWith("huge pages asked for (glibc.malloc.hugetlb=2"));
        assertEquals("huge pages off (glibc.malloc.hugetlb=0)", NativeMemory.hugePages("glibc.malloc.hugetlb=0"));
        assertTrue(NativeMemory.hugePages(null).startsWith("no huge pages asked for"));
        assertTrue(NativeMemory.hugePages("glibc.malloc.hugetlbx=1").startsWith("no huge pages asked for"));
    }
}
