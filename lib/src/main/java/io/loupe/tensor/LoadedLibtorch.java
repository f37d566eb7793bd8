package io.loupe.tensor;

import ai.djl.pytorch.jni.LibUtils;
import com.sun.jna.Library;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;

import java.nio.file.Path;
import java.util.Map;

/**
 * The libtorch DJL has loaded, as JNA sees it: for the entry points Loupe calls that DJL's JNI does not bind
 * ({@link FusedKernels}' operators, {@link MklDispatch}'s reading of MKL's branch).
 */
final class LoadedLibtorch {
    /** Linux on x86-64: the C++ ABI {@link FusedKernels} is written for, and where {@link MklDispatch}'s shim is built. */
    static final boolean LINUX_X86_64 = Platform.isLinux() && "x86-64".equals(Platform.ARCH);
    /** dlopen's flags (glibc): resolve lazily; only return a library already loaded. */
    private static final int RTLD_LAZY = 1, RTLD_NOLOAD = 4;

    private LoadedLibtorch() {
    }

    /**
     * {@code libtorch_cpu.so} as DJL loaded it. RTLD_NOLOAD: never a second copy, nor a wider scope for its symbols.
     *
     * @throws UnsatisfiedLinkError where libtorch is not loaded
     */
    static NativeLibrary cpu() {
        return NativeLibrary.getInstance(Path.of(LibUtils.getLibtorchPath(), "libtorch_cpu.so").toString(),
                Map.of(Library.OPTION_OPEN_FLAGS, RTLD_LAZY | RTLD_NOLOAD));
    }
}
