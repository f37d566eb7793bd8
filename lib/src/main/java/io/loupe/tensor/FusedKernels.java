package io.loupe.tensor;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

import java.util.Set;
import java.util.function.Supplier;

/**
 * libtorch's kernels that DJL's JNI does not bind: the one-kernel activations {@code silu} and tanh-{@code gelu}, and
 * {@code tanh_} (in place), called at their dispatcher entry points ({@code at::_ops::<op>::call}, the functions
 * {@code torch.nn.functional} reaches) through JNA. The activations run under autograd like any op, with libtorch's
 * fused backward.
 *
 * <p>Why: a composite form reads and writes the whole tensor once per elementwise op. tanh-GELU (GPT-2, Gemma) is
 * eight of them: 47 ms against the kernel's 10 ms on a {@code [2048, 3072]} MLP activation (GPT-2 small, 8 × 256
 * tokens; one thread, 2026-12-03, ad hoc harness), so twelve layers spend 0.45 s less a pass. SiLU is two passes where
 * the kernel is one. Gemma-2's soft-caps take tanh over every attention score and every logit: in place, with grad mode
 * off, that is no new tensor, where a new {@code [B, T, vocab]} one is hundreds of MB to fault in.
 *
 * <p>How, on the Itanium C++ ABI of Linux on x86-64: a DJL tensor handle is a heap {@code at::Tensor*}, which is what
 * a {@code const at::Tensor&} parameter receives. An {@code at::Tensor} result (a class with a destructor) is built by
 * the callee at a hidden pointer passed as the first argument: here a block from C++'s own {@code operator new}, so that
 * DJL's {@code delete} of the handle frees it as it frees its own. A {@code std::string_view} by value is its length
 * and pointer in two registers. (aarch64 passes the result's address in x8, not as an argument: left out.)
 *
 * <p>A C++ exception cannot cross JNA: it would end the process. So only dense floating-point CPU tensors are taken,
 * for which the kernels have no argument error to throw. What remains is a failed allocation of the result (the
 * input's size): under Linux's default overcommit that is the OOM killer's business either way, but with
 * {@code vm.overcommit_memory=2} or {@code ulimit -v} DJL's path would raise an exception where this one ends the
 * process; {@code -Dloupe.fused=off} is the way out there. On a GPU an out-of-memory error is routine and must reach
 * Java as an exception (DJL's own bindings catch it), so GPU tensors take the composite form.
 *
 * <p>Where the symbols are missing (another libtorch, another platform), for GPU tensors, under
 * {@code -Dloupe.fused=off} or inside {@link #unfused}, {@link #available} is false and callers use their composite
 * form, which gives the same values to float rounding (FusedKernelsTest; in float16 and bfloat16 the kernel rounds once
 * where the composite rounds after each step, so they differ by a few units in the last place).
 */
public final class FusedKernels {
    private static final String SILU = "_ZN2at4_ops4silu4callERKNS_6TensorE";
    private static final String GELU = "_ZN2at4_ops4gelu4callERKNS_6TensorESt17basic_string_viewIcSt11char_traitsIcEE";
    /** {@code at::_ops::tanh_::call(at::Tensor&)}: returns its argument (a reference, so no result slot). */
    private static final String TANH_IN_PLACE = "_ZN2at4_ops5tanh_4callERNS_6TensorE";
    /** {@code operator new(size_t)}: the allocator DJL's {@code delete} of a tensor handle pairs with. */
    private static final String OPERATOR_NEW = "_Znwm";
    /** {@code sizeof(at::Tensor)}: one intrusive pointer to the TensorImpl. */
    private static final long TENSOR_BYTES = 8;
    /** libtorch's {@code Layout::Strided}: a dense tensor (not sparse, not MKL-DNN). */
    private static final int STRIDED = 0;
    private static final Set<DataType> FLOATS = Set.of(DataType.FLOAT32, DataType.FLOAT64, DataType.FLOAT16, DataType.BFLOAT16);

    private static final Kernels KERNELS = load();
    private static final ThreadLocal<Boolean> OFF_HERE = ThreadLocal.withInitial(() -> false);
    /** gelu's {@code approximate} argument, kept for the process's life. */
    private static final String APPROXIMATE = "tanh";
    private static final Memory TANH = ascii(APPROXIMATE);

    private FusedKernels() {
    }

    /** The bound entry points, or why there are none. */
    private record Kernels(Function silu, Function gelu, Function tanhInPlace, Function operatorNew, String whyNot) {
    }

    private static Kernels load() {
        if ("off".equals(System.getProperty("loupe.fused"))) {
            return new Kernels(null, null, null, null, "-Dloupe.fused=off");
        }
        if (!LoadedLibtorch.LINUX_X86_64) {
            return new Kernels(null, null, null, null, "not Linux on x86-64");
        }
        try {
            io.loupe.model.Runtime.engine();
            NativeLibrary torch = LoadedLibtorch.cpu();
            // operator new is libstdc++'s: dlsym on a library's handle searches its dependencies too.
            return new Kernels(torch.getFunction(SILU), torch.getFunction(GELU), torch.getFunction(TANH_IN_PLACE),
                    torch.getFunction(OPERATOR_NEW), null);
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return new Kernels(null, null, null, null, "libtorch's operator entry points not found (" + e.getMessage() + ")");
        }
    }

    /**
     * Whether the kernels can take {@code x}: bound, not switched off on this thread, and x a dense (strided)
     * floating-point CPU tensor, for which the kernels have no argument error to throw.
     */
    public static boolean available(NDArray x) {
        return KERNELS.whyNot() == null && !OFF_HERE.get() && x instanceof PtNDArray pt
                && Device.Type.CPU.equals(x.getDevice().getDeviceType()) && FLOATS.contains(x.getDataType())
                && JniUtils.getLayout(pt) == STRIDED;
    }

    /** Why the kernels are not bound at all, or null when they are. */
    public static String unavailableReason() {
        return KERNELS.whyNot();
    }

    /**
     * Runs {@code work} with the kernels switched off on this thread (not on threads it starts), so callers take their
     * composite forms: to compare the two, or to rule the kernels out when a result looks wrong.
     */
    public static <T> T unfused(Supplier<T> work) {
        boolean before = OFF_HERE.get();
        OFF_HERE.set(true);
        try {
            return work.get();
        } finally {
            OFF_HERE.set(before);
        }
    }

    /**
     * {@code x · sigmoid(x)} in one kernel (libtorch's {@code silu}), on x's manager.
     *
     * @throws IllegalArgumentException where {@link #available} is false for x
     */
    public static NDArray silu(NDArray x) {
        return call(x, KERNELS.silu(), handle(x));
    }

    /**
     * {@code 0.5 x (1 + tanh(√(2/π)(x + 0.044715 x³)))} in one kernel (libtorch's {@code gelu(x, approximate="tanh")}).
     *
     * @throws IllegalArgumentException where {@link #available} is false for x
     */
    public static NDArray geluTanh(NDArray x) {
        return call(x, KERNELS.gelu(), handle(x), (long) APPROXIMATE.length(), TANH);
    }

    /**
     * {@code tanh} written over {@code x} (libtorch's {@code tanh_}), which DJL has no form of: no new tensor, so no
     * fresh memory to fault in. Only with grad mode off on this thread: under autograd an in-place op can overwrite
     * what a backward pass needs, and libtorch's refusal would be a C++ exception.
     *
     * @return x
     * @throws IllegalArgumentException where {@link #available} is false for x, or grad mode is on
     */
    public static NDArray tanhInPlace(NDArray x) {
        if (!available(x) || JniUtils.isGradMode()) {
            throw new IllegalArgumentException("in-place tanh needs a dense floating-point CPU tensor with grad mode off"
                    + (KERNELS.whyNot() == null ? "" : " (" + KERNELS.whyNot() + ")"));
        }
        KERNELS.tanhInPlace().invokePointer(new Object[]{handle(x)});
        return x;
    }

    /** Invokes an entry point whose result is an {@code at::Tensor}, and wraps it as a DJL tensor on x's manager. */
    private static NDArray call(NDArray x, Function kernel, Object... args) {
        if (!available(x)) {
            throw new IllegalArgumentException("fused kernels cannot take this tensor (" + x.getDataType() + " on " + x.getDevice()
                    + (KERNELS.whyNot() == null ? "" : "; " + KERNELS.whyNot()) + "): use the composite form");
        }
        Pointer result = KERNELS.operatorNew().invokePointer(new Object[]{TENSOR_BYTES});
        Object[] all = new Object[args.length + 1];
        all[0] = result;
        System.arraycopy(args, 0, all, 1, args.length);
        kernel.invokeVoid(all);
        long handle = Pointer.nativeValue(result);
        try {
            return new PtNDArray((PtNDManager) x.getManager(), handle);
        } catch (RuntimeException e) {   // a closed or capped manager: free the result, which nothing else owns
            JniUtils.deleteNDArray(handle);
            throw e;
        }
    }

    private static Pointer handle(NDArray x) {
        return new Pointer(((PtNDArray) x).getHandle());
    }

    private static Memory ascii(String s) {
        Memory m = new Memory(s.length() + 1);
        m.setString(0, s, "US-ASCII");
        return m;
    }
}
