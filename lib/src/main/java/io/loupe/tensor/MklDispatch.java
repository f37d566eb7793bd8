package io.loupe.tensor;

import com.sun.jna.Function;
import com.sun.jna.Library;
import com.sun.jna.NativeLibrary;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Lets MKL, which libtorch links for its CPU matrix products, choose its kernels by the CPU's features on AMD processors
 * too. MKL's dispatcher first asks whether the CPU is an Intel one ({@code mkl_serv_intel_cpu_true}); on an AMD EPYC
 * with AVX-512 (Zen 4, Zen 5) the answer no keeps it on an AVX2 path, well under half of what the chip does. A
 * one-line shim ({@code src/main/c/mkl_intel_cpu.c}, built with the jar) defines that function to say yes; loaded into
 * the process's global scope before libtorch's first MKL call, it is the definition libtorch's calls resolve to (through
 * its PLT), and the dispatcher then reads the CPU's feature bits as it does on an Intel CPU: AVX-512 here, never AMX or
 * AVX512-FP16, which it checks bit by bit and Zen lacks. The same libtorch and operators run; what changes is MKL's
 * kernels: the matrix products, and MKL's vector maths and LAPACK, which use the same dispatcher. (Another MKL function,
 * {@code mkl_serv_intel_cpu}, repeats the vendor check inline and still says no; the dispatcher does not use it.)
 *
 * <p>Measured on this project's 2-core AMD EPYC (Zen 5) host, 2026-12-03: a 2048² fp32 matmul in libtorch 173 GFLOP/s
 * with MKL's own choice, 404–461 with the shim; PyTorch 2.13 from pip (whose MKL has the same check) 175, and 415 with
 * the shim preloaded. The family reference tests match the numpy references within 1e-4 either way, and
 * MklDispatchTest checks products, exp/log/tanh/erf (NaN and infinities too) and an inverse against double maths.
 * Intel does not validate MKL in this configuration; no wrong results are reported for it on Zen 4/5 (README,
 * Performance). Not measured: many-core EPYCs, where MKL may size blocks and threads from Intel-only cpuid leaves.
 *
 * <p>Applied only where it was measured to pay: Linux on x86-64, vendor AuthenticAMD, AVX-512F reported. Skipped on
 * Intel CPUs (MKL already chooses by features), on AMD CPUs without AVX-512 (MKL's own AMD path is AVX2 already), under
 * {@code -Dloupe.mkl=stock}, and where the jar has no shim (built without gcc). With the shim, MKL's own
 * {@code MKL_ENABLE_INSTRUCTIONS=AVX2} is honoured on AMD too: a middle way back. It must run before libtorch's first
 * MKL call, which binds the function and caches MKL's choice: {@code Runtime.engine()} calls {@link #enable} before it
 * loads libtorch, and {@link #report} says what MKL then chose.
 */
public final class MklDispatch {
    /** The shim's library name: {@code linux-x86-64/libloupe_mkl_cpu.so} on the classpath (JNA's layout). */
    static final String SHIM = "loupe_mkl_cpu";
    /** dlopen flags: bind now, and put the shim's symbol in the global scope that libtorch's lookups search first. */
    private static final int RTLD_NOW = 2, RTLD_GLOBAL = 0x100;
    /**
     * MKL's dispatch branches ({@code mkl_serv_cpu_detect}, read from MKL 2024.0's dispatcher): 0 when the vendor check
     * fails, 5 AVX2 (15 with AVX-VNNI), 7 AVX-512, 9 and above AVX-512 with VNNI, BF16, FP16 or AMX.
     */
    static final int AVX512_BRANCH = 7;

    private static String outcome;
    /**
     * The loaded shim, held for the life of the process: JNA closes a library once its object is unreachable, and
     * between {@link #enable} and MKL's first call (which binds libtorch to it) nothing else would keep it loaded.
     */
    private static NativeLibrary shim;

    private MklDispatch() {
    }

    /**
     * Loads the shim once per process where it applies (later calls return the first outcome): a line saying what was
     * done, or why nothing was. Without the shim MKL runs as it would anyway, so nothing here throws, except for an
     * invalid {@code -Dloupe.mkl}, which is refused on every call (as a bad setting should stop a job, not be guessed).
     */
    public static synchronized String enable() {
        if (outcome == null) {
            String skip = reasonToSkip(System.getProperty("loupe.mkl"), LoadedLibtorch.LINUX_X86_64, cpuInfo());
            outcome = skip != null ? "MKL: its own kernel choice kept: " + skip : load();
        }
        return outcome;
    }

    /** True when {@link #enable} loaded the shim (whether MKL then took its AVX-512 branch is {@link #report}'s to say). */
    public static synchronized boolean loaded() {
        return shim != null;
    }

    /**
     * {@link #enable}'s outcome and the branch MKL dispatches to, once libtorch is loaded; with the shim loaded and a
     * branch below AVX-512's it says the shim did not take (MKL chose before it loaded, or this MKL asks elsewhere).
     */
    public static String report() {
        String line = enable();
        int branch = branch();
        String chosen = branch < 0 ? "MKL's branch unknown" : "MKL's dispatch branch " + branch + (branch >= AVX512_BRANCH ? " (AVX-512)" : "");
        if (loaded() && branch >= 0 && branch < AVX512_BRANCH) {
            return line + "; but " + chosen + ": the shim did not take (libtorch's MKL chose before it loaded, or this MKL asks elsewhere)";
        }
        return line + "; " + chosen;
    }

    /**
     * Why the shim must not be loaded, or null when it should be; {@code cpuInfo} is {@code /proc/cpuinfo}'s text (empty
     * when unreadable). An unknown {@code loupe.mkl} value is refused.
     */
    static String reasonToSkip(String property, boolean linuxX86, String cpuInfo) {
        if ("stock".equals(property)) {
            return "-Dloupe.mkl=stock";
        }
        if (property != null && !property.isEmpty() && !"features".equals(property)) {
            throw new IllegalArgumentException("-Dloupe.mkl must be 'features' (the default) or 'stock', got '" + property + "'");
        }
        if (!linuxX86) {
            return "not Linux on x86-64";
        }
        String vendor = field(cpuInfo, "vendor_id");
        if (vendor == null) {
            return "CPU vendor unknown (/proc/cpuinfo unreadable)";
        }
        if (vendor.equals("GenuineIntel")) {
            return "an Intel CPU, on which MKL already chooses by features";
        }
        if (!vendor.equals("AuthenticAMD")) {
            return "CPU vendor " + vendor + ", not measured";
        }
        String flags = field(cpuInfo, "flags");
        if (flags == null || !(" " + flags + " ").contains(" avx512f ")) {
            return "an AMD CPU without AVX-512, where MKL's own AMD path is AVX2 already";
        }
        return null;
    }

    /** The value of the first {@code name : value} line of /proc/cpuinfo's text, or null. */
    private static String field(String cpuInfo, String name) {
        for (String line : cpuInfo.split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equals(name)) {
                return line.substring(colon + 1).trim();
            }
        }
        return null;
    }

    private static String cpuInfo() {
        try {
            return Files.readString(Path.of("/proc/cpuinfo"));
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private static String load() {
        boolean late = libtorchMapped();
        try {
            // JNA finds linux-x86-64/libloupe_mkl_cpu.so on the classpath and extracts it to its temporary folder.
            shim = NativeLibrary.getInstance(SHIM, Map.of(Library.OPTION_OPEN_FLAGS, RTLD_NOW | RTLD_GLOBAL));
            shim.getFunction("mkl_serv_intel_cpu_true");
            return "MKL: kernels chosen by CPU features on this AMD CPU with AVX-512 (shim " + shim.getFile()
                    + (late ? ", loaded after libtorch: MKL may have chosen already" : "") + "; -Dloupe.mkl=stock keeps MKL's own AVX2 path)";
        } catch (UnsatisfiedLinkError | RuntimeException e) {   // no shim in this build, or a noexec temporary folder
            shim = null;
            return "MKL: its own kernel choice kept: shim not loaded (" + e.getMessage() + ")";
        }
    }

    /** Whether libtorch is already in the process (its first MKL call may have been made). */
    private static boolean libtorchMapped() {
        try {
            return Files.readString(Path.of("/proc/self/maps")).contains("libtorch_cpu");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * MKL's dispatch branch ({@code mkl_serv_cpu_detect}, see {@link #AVX512_BRANCH}), read from the libtorch already
     * loaded, or -1 where it cannot be read. Calling it makes MKL decide if it has not yet. The symbol is MKL's
     * internal one, so another MKL may lack it (-1).
     */
    public static int branch() {
        if (!LoadedLibtorch.LINUX_X86_64) {
            return -1;
        }
        try {
            Function detect = LoadedLibtorch.cpu().getFunction("mkl_serv_cpu_detect");
            return detect.invokeInt(new Object[0]);
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return -1;
        }
    }
}
