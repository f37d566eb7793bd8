package io.loupe.model;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;

import java.util.Map;

/**
 * Keeps freed tensor memory in the process for reuse, on Linux with glibc: libtorch allocates every CPU tensor with
 * {@code posix_memalign}, and a forward pass makes and frees tensors of a few MB hundreds of times.
 *
 * <p>glibc's defaults give such memory back to the kernel soon after it is freed: a block above the mmap threshold
 * (128 KB at first; raised to the size of a larger mapped block when that is freed, up to 32 MB) is its own mapping,
 * unmapped on free; an arena's free top beyond the trim threshold (twice the mmap threshold after a raise) is trimmed
 * back to the top pad (128 KB); and a thread's arena grows in heaps of at most 64 MB, each unmapped once empty. The
 * next tensor then touches fresh pages, and each first touch is a page fault, which costs microseconds on a virtual
 * machine.
 *
 * <p>Settings ({@code mallopt}, which also ends glibc's automatic raising): blocks up to {@value #MMAP_THRESHOLD} bytes
 * (glibc's maximum) come from the arenas, and the top pad is {@value #TOP_PAD} bytes. A 64 MB pad is a whole thread
 * heap, so a thread arena's heaps are neither shrunk nor unmapped: it keeps its peak size. The main arena keeps up to
 * 64 MB free at its top. The cost is resident memory: each arena (one per thread that allocates, at most 8 per core)
 * stays at its peak.
 *
 * <p>Measured on the 25M model, {@code forward} of 64 × 256 tokens with two workers (2 cores, 2026-12-02):
 * 47,000–137,000 page faults per run with the defaults, about 20,000 with these settings, and 0.45 s of kernel time
 * instead of 0.55–0.78 s. With the mmap threshold fixed at 128 KB instead, 262,000 faults per pass made the pass 0.6 s
 * slower, about 2.4 µs per fault.
 *
 * <p>Huge pages: each first touch of a 4 KB page is a fault, so a block that comes fresh from the kernel every pass
 * (above the 32 MB threshold: GPT-2's {@code [8, 256, 50257]} logits are 412 MB) costs a fault per 4 KB. glibc's tunable
 * {@code glibc.malloc.hugetlb=1} has malloc ask for transparent huge pages (2 MB: 512 times fewer faults). It can only be
 * set in the environment before the process starts, so {@code scripts/loupe} sets it; this class reports it. Measured
 * with {@code bench forward} on this 2-core host (2026-12-03 evening, one run each): GPT-2-small shape 1,127–1,143
 * tokens/s (66–68% of the ceiling) against 827–951 (50–55%) without, 49,000 page faults in the run against 4.1 million;
 * the 25M model unchanged (71–74%).
 *
 * <p>Skipped when the user set glibc's own malloc variables ({@code MALLOC_MMAP_THRESHOLD_},
 * {@code MALLOC_TRIM_THRESHOLD_}, {@code MALLOC_TOP_PAD_}, {@code glibc.malloc} tunables other than {@code hugetlb}), preloads a library (such as
 * another allocator, which {@code mallopt} would not reach), or the system property {@code loupe.malloc} is
 * {@code default}; elsewhere than glibc there is nothing to do.
 */
public final class NativeMemory {
    /** glibc's {@code M_TOP_PAD} and {@code M_MMAP_THRESHOLD} parameter numbers (malloc.h). */
    private static final int M_TOP_PAD = -2, M_MMAP_THRESHOLD = -3;
    static final int MMAP_THRESHOLD = 32 << 20;
    static final int TOP_PAD = 64 << 20;
    /** glibc's (2.35+) tunable that has malloc ask for transparent huge pages ({@code madvise(MADV_HUGEPAGE)}). */
    static final String HUGE_PAGES = "glibc.malloc.hugetlb";

    private static String outcome;

    private NativeMemory() {
    }

    /** glibc's entry points used here. */
    private interface LibC extends Library {
        int mallopt(int param, int value);

        String gnu_get_libc_version();
    }

    /**
     * Applies the settings once per process (later calls return the first outcome): a line saying what was done, or why
     * nothing was.
     */
    public static synchronized String tune() {
        if (outcome == null) {
            String skip = reasonToSkip(System.getenv(), System.getProperty("loupe.malloc"), Platform.isLinux());
            outcome = skip != null ? "malloc defaults kept: " + skip : apply();
        }
        return outcome;
    }

    /** Why the settings must not be applied, or null when they should be. */
    static String reasonToSkip(Map<String, String> env, String property, boolean linux) {
        if ("default".equals(property)) {
            return "-Dloupe.malloc=default";
        }
        if (property != null && !property.isEmpty() && !"tuned".equals(property)) {
            throw new IllegalArgumentException("-Dloupe.malloc must be 'tuned' (the default) or 'default', got '" + property + "'");
        }
        for (String name : new String[]{"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_"}) {
            if (env.containsKey(name)) {
                return name + " is set";
            }
        }
        for (String tunable : env.getOrDefault("GLIBC_TUNABLES", "").split(":")) {
            // glibc.malloc.hugetlb only asks for huge pages (scripts/loupe sets it): the settings here still apply.
            if (tunable.startsWith("glibc.malloc.") && !tunable.startsWith(HUGE_PAGES + "=")) {
                return "GLIBC_TUNABLES sets malloc";
            }
        }
        if (!env.getOrDefault("LD_PRELOAD", "").isBlank()) {
            return "LD_PRELOAD is set (another allocator?)";
        }
        return linux ? null : "not Linux";
    }

    private static String apply() {
        LibC libc;
        try {
            libc = Native.load("c", LibC.class);
            libc.gnu_get_libc_version();
        } catch (LinkageError e) {   // not glibc, or JNA's own native library cannot load (e.g. a noexec temp dir)
            return "malloc defaults kept: not glibc or no JNA (" + e + ")";
        }
        boolean mmap = libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1;
        boolean pad = libc.mallopt(M_TOP_PAD, TOP_PAD) == 1;
        return (mmap && pad ? "malloc tuned: mmap threshold " + (MMAP_THRESHOLD >> 20) + " MB, top pad " + (TOP_PAD >> 20) + " MB"
                : "malloc partly tuned: glibc refused" + (mmap ? "" : " the mmap threshold") + (pad ? "" : " the top pad"))
                + "; " + hugePages(System.getenv("GLIBC_TUNABLES"));
    }

    /** What {@code GLIBC_TUNABLES} says of transparent huge pages for malloc's memory (it is read only at process start). */
    static String hugePages(String tunables) {
        for (String tunable : (tunables == null ? "" : tunables).split(":")) {
            if (tunable.startsWith(HUGE_PAGES + "=")) {
                return "0".equals(tunable.substring(HUGE_PAGES.length() + 1)) ? "huge pages off (" + tunable + ")"
                        : "huge pages asked for (" + tunable + "; used where the kernel's THP mode is madvise or always)";
            }
        }
        return "no huge pages asked for (start the JVM with GLIBC_TUNABLES=" + HUGE_PAGES + "=1, as scripts/loupe does)";
    }
}
