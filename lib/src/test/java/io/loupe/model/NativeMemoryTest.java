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
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NativeMemory.reasonToSkip(Map.of(), "off", true));
        assertTrue(e.getMessage().contains("'tuned' (the default) or 'default'"), e.getMessage());
    }

    /** glibc's allocator, called directly so that the test sees pages, not tensors. */
    private interface LibC extends Library {
        Pointer malloc(long size);

        void free(Pointer p);

        int gettid();
    }

    /**
     * Five blocks of 12 MB, freed and allocated again, reuse their pages. With glibc's defaults (or without either
     * setting) the first is unmapped on free and the arena's top is trimmed, so each round faults on every page.
     * Tuned: none in a fresh JVM; one block (20%) after other tests, where the thread reuses an arena that other
     * threads left with free memory at its top, of which only 64 MB is kept.
     */
    @Test
    void freedBlocksAreReusedWithoutPageFaults() throws Exception {
        assumeTrue(Platform.isLinux() && System.getenv().keySet().stream().noneMatch(k -> k.startsWith("MALLOC_")), "glibc defaults set by the user");
        String outcome = NativeMemory.tune();
        assumeTrue(!outcome.contains("not glibc"), outcome);
        assertTrue(outcome.startsWith("malloc tuned"), outcome);
        LibC libc = Native.load("c", LibC.class);
        long block = 12L << 20, pages = BLOCKS * block / 4096;
        AtomicLong lastRound = new AtomicLong(-1);
        Thread t = new Thread(() -> {
            try {
                Path stat = Path.of("/proc/self/task/" + libc.gettid() + "/stat");
                touchAndFree(libc, block);   // twice: where the blocks land can differ once, when a heap is added
                touchAndFree(libc, block);
                long before = minorFaults(stat);
                touchAndFree(libc, block);
                lastRound.set(minorFaults(stat) - before);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        t.start();
        t.join();
        assertTrue(lastRound.get() >= 0 && lastRound.get() < pages / 2,
                "third round faulted " + lastRound.get() + " pages of " + pages + " (" + outcome + ")");
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
}
