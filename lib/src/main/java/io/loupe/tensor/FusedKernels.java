package io.loupe.tensor;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.LibUtils;
import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

import java.nio.file.Path;
import java.util.Set;
import java.util.function.Supplier;

/**
 * libtorch's one-kernel activations that DJL's JNI does not bind, {@code silu} and tanh-{@code gelu}, called at their
 * dispatcher entry points ({@code at::_ops::<op>::call}, the functions {@code torch.nn.functional} reaches) through JNA.
 * They run under autograd like any op, with libtorch's fused backward.
 *
 * <p>Why: a composite form reads and writes the whole tensor once per elementwise op. tanh-GELU (GPT-2, Gemma) is
 * eight of them: 47 ms against the kernel's 10 ms on a {@code [2048, 3072]} MLP activation (GPT-2 small, 8 × 256
 * tokens; one thread, 2026-12-03, ad hoc harness), so twelve layers spend 0.45 s less a pass. SiLU is two passes where
 * the kernel is one.
 *
 * <p>How, on the Itanium C++ ABI of 64-bit Linux: a DJL tensor handle is a heap {@code at::Tensor*}, which is what a
 * {@code const at::Tensor&} parameter receives. An {@code at::Tensor} result (a class with a destructor) is built by the
 * callee at a hidden first pointer argument: here a block from C++'s own {@code operator new}, so that DJL's
 * {@code delete} of the handle frees it as it frees its own. A {@code std::string_view} by value is its length and
 * pointer in two registers.
 *
 * <p>A C++ exception cannot cross JNA: it would end the process. So arguments are checked here first, and only CPU
 * tensors are taken: there the kernels can fail only when memory runs out, where the kernel's OOM killer ends the
 * process either way; on a GPU an out-of-memory error is routine and must reach Java as an exception (DJL's own
 * bindings catch it). Where the symbols are missing (another libtorch, another platform), for GPU tensors, under
 * {@code -Dloupe.fused=off} or inside {@link #unfused}, {@link #available} is false and callers use their composite
 * form, which gives the same values to float rounding (FusedKernelsTest).
 */
public final class FusedKernels {
    private static final String SILU = "_ZN2at4_ops4silu4callERKNS_6TensorE";
    private static final String GELU = "_ZN2at4_ops4gelu4callERKNS_6TensorESt17basic_string_viewIcSt11char_traitsIcEE";
    /** {@code operator new(size_t)}: the allocator DJL's {@code delete} of a tensor handle pairs with. */
    private static final String OPERATOR_NEW = "_Znwm";
    /** {@code sizeof(at::Tensor)}: one intrusive pointer to the TensorImpl. */
    private static final long TENSOR_BYTES = 8;
    private static final Set<DataType> FLOATS = Set.of(DataType.FLOAT32, DataType.FLOAT64, DataType.FLOAT16, DataType.BFLOAT16);

    private static final Kernels KERNELS = load();
    private static final ThreadLocal<Boolean> OFF_HERE = ThreadLocal.withInitial(() -> false);
    /** gelu's {@code approximate} argument, kept for the process's life. */
    private static final Memory TANH = ascii("tanh");

    private FusedKernels() {
    }

    /** The bound entry points, or why there are none. */
    private record Kernels(Function silu, Function gelu, Function operatorNew, String whyNot) {
    }

    private static Kernels load() {
        if ("off".equals(System.getProperty("loupe.fused"))) {
            return new Kernels(null, null, null, "-Dloupe.fused=off");
        }
        if (!Platform.isLinux() || !Platform.is64Bit()) {
            return new Kernels(null, null, null, "not 64-bit Linux");
        }
        try {
            io.loupe.model.Runtime.engine();
            NativeLibrary torch = NativeLibrary.getInstance(Path.of(LibUtils.getLibtorchPath(), "libtorch_cpu.so").toString());
            return new Kernels(torch.getFunction(SILU), torch.getFunction(GELU), torch.getFunction(OPERATOR_NEW), null);
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return new Kernels(null, null, null, "libtorch's operator entry points not found (" + e.getMessage() + ")");
        }
    }

    /** Whether the kernels can take {@code x}: bound, not switched off on this thread, and x a floating-point CPU tensor. */
    public static boolean available(NDArray x) {
        return KERNELS.whyNot() == null && !OFF_HERE.get() && x instanceof PtNDArray && Device.Type.CPU.equals(x.getDevice().getDeviceType())
                && FLOATS.contains(x.getDataType());
    }

    /** Why the kernels are not bound at all, or null when they are. */
    public static String unavailableReason() {
        return KERNELS.whyNot();
    }

    /**
     * Runs {@code work} with the kernels switched off on this thread, so callers take their composite forms: to compare
     * the two, or to rule the kernels out when a result looks wrong.
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

    /** {@code x · sigmoid(x)} in one kernel (libtorch's {@code silu}), on x's manager; x as {@link #available} requires. */
    public static NDArray silu(NDArray x) {
        return call(x, KERNELS.silu(), handle(x));
    }

    /** {@code 0.5 x (1 + tanh(√(2/π)(x + 0.044715 x³)))} in one kernel (libtorch's {@code gelu(x, approximate="tanh")}). */
    public static NDArray geluTanh(NDArray x) {
        return call(x, KERNELS.gelu(), handle(x), 4L, TANH);
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
        return new PtNDArray((PtNDManager) x.getManager(), Pointer.nativeValue(result));
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
