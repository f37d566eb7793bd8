package io.loupe.tensor;

import ai.djl.pytorch.jni.LibUtils;
import com.sun.jna.Pointer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Keeps the pages of libtorch's read-only constants ({@code .rodata} of {@code libtorch_cpu.so}) mapped, by reading
 * one byte of each page every {@value #PERIOD_MS} ms from a daemon thread.
 *
 * <p>Why: ATen's AVX-512 kernels built on SLEEF ({@code exp} inside {@code silu}, {@code softmax}, {@code sigmoid},
 * ...) end with a masked broadcast of a constant ({@code vbroadcastss mem, zmm{k}}) whose mask is all zero unless an
 * input overflows. A masked-off load does not fault, so if the page holding that constant has lost its translation,
 * nothing brings it back: every call takes the processor's slow path instead. Under a shadow-paging hypervisor (here,
 * PVM: "Hypervisor detected: PVM" at boot) translations of pages a process still maps are dropped at unpredictable
 * moments. Measured on this 2-core host (2026-12-03, ad hoc harness, 25M model, two workers): in about one process in
 * five, from some pass on, {@code silu} over {@code [2048, 1376]} took 16–31 ms instead of 0.4–0.7 and {@code softmax}
 * 6–12 ms instead of 0.3–0.5 (MKL's {@code exp} and plain {@code mul} unchanged), and every pass ran 1.8× slower until
 * the process ended; {@code perf} put 90% of the time on that instruction. Reading the pages once restored 0.4 ms at
 * once. A sweep of the 4,413 pages takes 0.03–0.07 ms (0.1% of a core at this period); on a host without the problem
 * it is wasted but harmless. With the keeper, ten such processes of 30 rounds each ran with no slow spell over one round.
 *
 * <p>Reads only memory libtorch maps for its whole life (DJL never unloads it). Skipped off Linux x86-64, where the
 * library or its {@code .rodata} is not found, or with {@code -Dloupe.pages=off}.
 */
public final class ConstantPages {
    static final long PERIOD_MS = 50;
    private static final int PAGE = 4096;
    private static String outcome;
    /** Kept reachable for the life of the process: the thread reads through it. */
    private static ByteBuffer rodata;
    private static volatile long sweeps;

    private ConstantPages() {
    }

    /** A loaded library's section: its start in this process and its length in bytes. */
    record Region(long address, long length) {
    }

    /**
     * Starts the keeper once per process, after libtorch has loaded (later calls return the first outcome): a line saying
     * what it keeps mapped, or why nothing.
     */
    public static synchronized String keepMapped() {
        if (outcome == null) {
            outcome = start();
        }
        return outcome;
    }

    /** Sweeps done so far (for tests and reports). */
    static long sweeps() {
        return sweeps;
    }

    private static String start() {
        String skip = reasonToSkip(System.getProperty("loupe.pages"), LoadedLibtorch.LINUX_X86_64);
        if (skip != null) {
            return "libtorch constants: not kept mapped (" + skip + ")";
        }
        try {
            Path lib = Path.of(LibUtils.getLibtorchPath(), "libtorch_cpu.so").toRealPath();
            List<String> maps = Files.readAllLines(Path.of("/proc/self/maps"));
            long base = loadBase(maps, lib.toString());
            Region section = section(lib, ".rodata");
            if (base < 0 || section == null || section.length() <= 0) {
                return "libtorch constants: not kept mapped (" + (base < 0 ? lib + " is not mapped in this process" : "no .rodata in " + lib) + ")";
            }
            if (!readable(maps, lib.toString(), base + section.address(), base + section.address() + section.length())) {
                return "libtorch constants: not kept mapped (.rodata of " + lib + " is not inside one readable mapping)";
            }
            rodata = new Pointer(base + section.address()).getByteBuffer(0, section.length());
        } catch (IOException | RuntimeException e) {
            return "libtorch constants: not kept mapped (" + e + ")";
        }
        Thread keeper = new Thread(ConstantPages::run, "loupe-constant-pages");
        keeper.setDaemon(true);
        keeper.start();
        return String.format("libtorch constants: %d pages of .rodata read every %d ms (keeps SLEEF's masked loads fast under"
                + " shadow paging; -Dloupe.pages=off to stop)", (rodata.capacity() + PAGE - 1) / PAGE, PERIOD_MS);
    }

    /** Why the keeper must not start, or null when it should. */
    static String reasonToSkip(String property, boolean linuxX86) {
        if ("off".equals(property)) {
            return "-Dloupe.pages=off";
        }
        if (property != null && !property.isEmpty() && !"keep".equals(property)) {
            throw new IllegalArgumentException("-Dloupe.pages must be 'keep' (the default) or 'off', got '" + property + "'");
        }
        return linuxX86 ? null : "not Linux on x86-64";
    }

    private static void run() {
        try {
            while (true) {
                touch(rodata);
                sweeps++;
                Thread.sleep(PERIOD_MS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Reads one byte of every page the buffer spans; returns their sum so the reads cannot be optimised away. */
    static int touch(ByteBuffer b) {
        int sum = 0;
        for (int i = 0; i < b.capacity(); i += PAGE) {
            sum += b.get(i);
        }
        return sum + b.get(b.capacity() - 1);
    }

    /** One line of {@code /proc/self/maps} ({@code start-end perms offset dev inode path}): addresses {@code [start, end)}. */
    private record Mapping(long start, long end, String perms, long offset, String path) {
        /** The line parsed, or null for a line without a path (anonymous memory). */
        static Mapping parse(String line) {
            String[] f = line.trim().split("\\s+", 6);
            if (f.length < 6) {
                return null;
            }
            int dash = f[0].indexOf('-');
            return new Mapping(Long.parseUnsignedLong(f[0].substring(0, dash), 16), Long.parseUnsignedLong(f[0].substring(dash + 1), 16),
                    f[1], Long.parseLong(f[2], 16), f[5]);
        }
    }

    /** The mappings of {@code library} among {@code /proc/self/maps} lines. */
    private static List<Mapping> mappings(List<String> maps, String library) {
        return maps.stream().map(Mapping::parse).filter(m -> m != null && m.path().equals(library)).toList();
    }

    /** Where {@code library} starts in this process: the start of its mapping at file offset 0, or -1 when it is not mapped. */
    static long loadBase(List<String> maps, String library) {
        return mappings(maps, library).stream().filter(m -> m.offset() == 0).mapToLong(Mapping::start).findFirst().orElse(-1);
    }

    /** Whether one readable mapping of {@code library} in {@code /proc/self/maps} lines covers {@code [start, end)}. */
    static boolean readable(List<String> maps, String library, long start, long end) {
        return mappings(maps, library).stream().anyMatch(m -> m.perms().charAt(0) == 'r'
                && Long.compareUnsigned(m.start(), start) <= 0 && Long.compareUnsigned(end, m.end()) <= 0);
    }

    /**
     * A section of a little-endian ELF64 file by name: its address relative to the load base ({@code sh_addr}) and
     * size, or null when there is none. The layout is the System V ABI's: section headers at {@code e_shoff}, names in
     * the section {@code e_shstrndx}.
     *
     * @throws IOException where the file is not a little-endian ELF64 file or cannot be read
     */
    static Region section(Path elf, String name) throws IOException {
        try (FileChannel ch = FileChannel.open(elf, StandardOpenOption.READ)) {
            ByteBuffer header = read(ch, 0, Math.min(64, ch.size()));
            if (header.capacity() < 64 || header.getInt(0) != 0x464c457f || header.get(4) != 2 || header.get(5) != 1) {
                throw new IOException(elf + " is not a little-endian 64-bit ELF file");
            }
            long shoff = header.getLong(0x28);
            int entry = Short.toUnsignedInt(header.getShort(0x3A)), count = Short.toUnsignedInt(header.getShort(0x3C));
            int names = Short.toUnsignedInt(header.getShort(0x3E));
            if (entry < 64 || names >= count) {
                throw new IOException(elf + ": unexpected section header table (entry " + entry + ", " + count + " sections, names at " + names + ")");
            }
            ByteBuffer headers = read(ch, shoff, (long) entry * count);
            ByteBuffer strings = read(ch, headers.getLong(names * entry + 24), headers.getLong(names * entry + 32));
            byte[] want = (name + "\0").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            for (int i = 0; i < count; i++) {
                int at = headers.getInt(i * entry);
                if (at >= 0 && at + want.length <= strings.capacity() && matches(strings, at, want)) {
                    return new Region(headers.getLong(i * entry + 16), headers.getLong(i * entry + 32));
                }
            }
            return null;
        }
    }

    private static boolean matches(ByteBuffer b, int at, byte[] want) {
        for (int j = 0; j < want.length; j++) {
            if (b.get(at + j) != want[j]) {
                return false;
            }
        }
        return true;
    }

    private static ByteBuffer read(FileChannel ch, long position, long length) throws IOException {
        if (length < 0 || length > Integer.MAX_VALUE || position < 0 || position + length > ch.size()) {
            throw new IOException("ELF range " + position + "+" + length + " outside the file (" + ch.size() + " bytes)");
        }
        ByteBuffer b = ByteBuffer.allocate((int) length).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, position + b.position()) < 0) {
                throw new IOException("ELF file ended early");
            }
        }
        return b.flip();
    }
}
