package io.loupe.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import io.loupe.tensor.ConstantPages;
import io.loupe.tensor.MklDispatch;

/**
 * The DJL PyTorch engine, started offline: libtorch and its JNI come from the jars on the classpath
 * (pytorch-native-cpu or -cu128, pytorch-jni), never from the network.
 */
public final class Runtime {
    /**
     * DJL allows one GradientCollector per process at a time; every autograd section holds this lock, so
     * Spark tasks sharing an executor JVM take turns step by step instead of failing.
     */
    public static final Object AUTOGRAD = new Object();

    private Runtime() {
    }

    /**
     * The PyTorch engine; sets DJL's offline switch first unless the caller already set it, keeps freed tensor memory
     * in the process ({@link NativeMemory}) and, before libtorch loads, lets MKL choose its kernels by the CPU's features
     * ({@link MklDispatch}); once it has loaded, keeps libtorch's constants mapped ({@link ConstantPages}).
     */
    public static synchronized Engine engine() {
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        NativeMemory.tune();
        MklDispatch.enable();
        Engine engine;
        try {
            engine = Engine.getEngine("PyTorch");
        } catch (RuntimeException e) {
            throw new IllegalStateException("libtorch could not be loaded (" + e.getMessage() + "). The default build bundles the"
                    + " CPU libtorch; a -Pcuda build needs PYTORCH_LIBRARY_PATH set to a libtorch 2.7.1+cu128 lib directory,"
                    + " with PYTORCH_VERSION=2.7.1 and PYTORCH_FLAVOR=cu128", e);
        }
        ConstantPages.keepMapped();
        return engine;
    }

    /** A new root manager on {@code device}. */
    public static NDManager newManager(Device device) {
        return engine().newBaseManager(device);
    }

    /**
     * Parses a device spec: {@code cpu}, {@code gpu} (first GPU), {@code gpu:N}, or {@code auto}
     * (first GPU if the engine sees one, else CPU).
     */
    public static Device device(String spec) {
        String s = spec == null ? "auto" : spec.trim().toLowerCase();
        if (s.equals("auto")) {
            return engine().getGpuCount() > 0 ? Device.gpu() : Device.cpu();
        }
        if (s.equals("cpu")) {
            return Device.cpu();
        }
        if (s.equals("gpu") || s.equals("cuda")) {
            return requireGpu(0);
        }
        if (s.startsWith("gpu:") || s.startsWith("cuda:")) {
            return requireGpu(Integer.parseInt(s.substring(s.indexOf(':') + 1)));
        }
        throw new IllegalArgumentException("unknown device '" + spec + "': use cpu, gpu, gpu:N or auto");
    }

    private static Device requireGpu(int id) {
        int n = engine().getGpuCount();
        if (id >= n) {
            throw new IllegalArgumentException("device gpu:" + id + " asked for, but the engine sees " + n
                    + " GPU(s); a GPU needs the CUDA build (mvn package -Pcuda)");
        }
        return Device.gpu(id);
    }
}
