package io.loupe.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.sun.jna.NativeLibrary;
import io.loupe.model.Runtime;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MklDispatchTest {
    private static final String ZEN5 = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse avx2 fma avx512f avx512bw avx512vl\n";
    private static final String ZEN3 = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse avx2 fma\n";
    private static final String INTEL = "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu avx2 avx512f\n";

    @Test
    void appliesOnlyToAmdWithAvx512AndHonoursTheOptOut() {
        assertNull(MklDispatch.reasonToSkip(null, true, ZEN5));
        assertNull(MklDispatch.reasonToSkip("features", true, ZEN5));
        assertEquals("-Dloupe.mkl=stock", MklDispatch.reasonToSkip("stock", true, ZEN5));
        assertEquals("not Linux on x86-64", MklDispatch.reasonToSkip(null, false, ZEN5));
        assertTrue(MklDispatch.reasonToSkip(null, true, ZEN3).contains("without AVX-512"));
        assertTrue(MklDispatch.reasonToSkip(null, true, INTEL).contains("an Intel CPU"));
        assertTrue(MklDispatch.reasonToSkip(null, true, "vendor_id : HygonGenuine\nflags : avx512f\n").contains("HygonGenuine"));
        assertTrue(MklDispatch.reasonToSkip(null, true, "").contains("unknown"));
        // avx512f must be a whole flag, not a prefix of another one
        assertTrue(MklDispatch.reasonToSkip(null, true, "vendor_id : AuthenticAMD\nflags : avx512fx\n").contains("without AVX-512"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MklDispatch.reasonToSkip("on", true, ZEN5));
        assertTrue(e.getMessage().contains("'features' (the default) or 'stock'"), e.getMessage());
    }

    /**
     * On a host where the shim applies (an AMD CPU with AVX-512, as this project's CI host), the engine loads it and MKL
     * takes its AVX-512 branch (0, "not Intel", there without the shim). Elsewhere it says why it did not apply.
     */
    @Test
    void theEngineLoadsTheShimWhereItApplies() throws IOException {
        Runtime.engine();
        String host = MklDispatch.reasonToSkip(System.getProperty("loupe.mkl"), LoadedLibtorch.LINUX_X86_64, cpuInfo());
        String outcome = MklDispatch.enable();
        boolean bundled = MklDispatch.class.getClassLoader().getResource("linux-x86-64/lib" + MklDispatch.SHIM + ".so") != null;
        if (host != null) {
            assertTrue(!MklDispatch.loaded() && outcome.contains(host), outcome);
            return;
        }
        if (!bundled) {
            System.err.println("MklDispatchTest: this host would take the shim, but the build has none (gcc missing?): " + outcome);
            assertTrue(!MklDispatch.loaded() && outcome.contains("shim not loaded"), outcome);
            return;
        }
        assertTrue(MklDispatch.loaded(), outcome);
        assertEquals(1, NativeLibrary.getProcess().getFunction("mkl_serv_intel_cpu_true").invokeInt(new Object[0]),
                "the global scope resolves MKL's vendor question to the shim");
        // MKL's own settings can narrow its branch on purpose; only then is a lower branch right.
        if (System.getenv("MKL_CBWR") == null && System.getenv("MKL_ENABLE_INSTRUCTIONS") == null) {
            assertTrue(MklDispatch.branch() >= MklDispatch.AVX512_BRANCH, MklDispatch.report());
            assertTrue(MklDispatch.report().contains("(AVX-512)"), MklDispatch.report());
        }
    }

    /**
     * MKL's vector maths (which libtorch may call for exp, log, tanh, erf) and LAPACK switch branch with the products:
     * each against double maths, NaN and infinities included.
     */
    @Test
    void vectorMathsAndAnInverseMatchDoubleMaths() {
        Random rnd = new Random(11);
        float[] x = new float[4099];   // not a multiple of any vector width
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextGaussian() * 4);
        }
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 1e-30f, -1e-30f, 88f, -88f, 1e30f};
        System.arraycopy(special, 0, x, 0, special.length);
        try (NDManager m = Runtime.newManager(ai.djl.Device.cpu())) {
            NDArray a = m.create(x);
            check("exp", a.exp().toFloatArray(), x, Math::exp);
            check("log", a.log().toFloatArray(), x, Math::log);
            check("tanh", a.tanh().toFloatArray(), x, Math::tanh);
            check("erf", a.erf().toFloatArray(), x, MklDispatchTest::erf);

            int n = 64;
            double[] w = new double[n * n];
            for (int i = 0; i < w.length; i++) {
                w[i] = rnd.nextGaussian() / n + (i % (n + 1) == 0 ? 1 : 0);   // diagonally dominant: well conditioned
            }
            float[] wf = new float[w.length];
            for (int i = 0; i < w.length; i++) {
                wf[i] = (float) w[i];
            }
            float[] inv = m.create(wf, new Shape(n, n)).inverse().toFloatArray();
            double worst = 0;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = 0;
                    for (int t = 0; t < n; t++) {
                        sum += wf[i * n + t] * (double) inv[t * n + j];
                    }
                    worst = Math.max(worst, Math.abs(sum - (i == j ? 1 : 0)));
                }
            }
            assertTrue(worst < 1e-5, "W · inverse(W) - I: " + worst);
        }
    }

    private static void check(String name, float[] got, float[] x, java.util.function.DoubleUnaryOperator f) {
        for (int i = 0; i < x.length; i++) {
            double want = f.applyAsDouble(x[i]);
            float want32 = (float) want;
            if (Float.isNaN(want32) || Float.isInfinite(want32)) {
                assertEquals(want32, got[i], name + "(" + x[i] + ")");   // NaN equals NaN in assertEquals(float, float)
            } else {
                assertTrue(Math.abs(got[i] - want) <= 4 * Math.ulp(want32) + 1e-37, name + "(" + x[i] + ") = " + got[i] + ", want " + want);
            }
        }
    }

    /**
     * erf in double to ~1e-16: its Maclaurin series for |x| < 3 (terms fall below 1e-17 by the 90th), and 1 beyond 6,
     * with Lentz's continued fraction for erfc between.
     */
    static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double ax = Math.abs(x);
        if (ax >= 6) {
            return Math.signum(x);
        }
        if (ax < 3) {
            double term = ax, sum = ax;
            for (int k = 1; k < 200 && Math.abs(term) > 1e-18 * Math.abs(sum); k++) {
                term *= -ax * ax / k;
                sum += term / (2 * k + 1);
            }
            return Math.signum(x) * 2 / Math.sqrt(Math.PI) * sum;
        }
        // erfc(x) = exp(-x²)/sqrt(pi) · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))), evaluated from the tail up
        double f = ax;
        for (int k = 60; k >= 1; k--) {
            f = ax + (k / 2.0) / f;
        }
        double erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
        return Math.signum(x) * (1 - erfc);
    }

    /** The products MKL computes on whichever path it took, against double-precision sums, at sizes with ragged edges. */
    @Test
    void productsMatchDoublePrecisionSums() {
        Random rnd = new Random(7);
        int[][] shapes = {{300, 517, 129}, {1, 64, 33}, {65, 1, 7}, {257, 768, 50}};
        try (NDManager m = Runtime.newManager(ai.djl.Device.cpu())) {
            for (int[] s : shapes) {
                int n = s[0], k = s[1], p = s[2];
                float[] a = new float[n * k], b = new float[k * p];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) rnd.nextGaussian();
                }
                for (int i = 0; i < b.length; i++) {
                    b[i] = (float) rnd.nextGaussian();
                }
                NDArray c = m.create(a, new Shape(n, k)).matMul(m.create(b, new Shape(k, p)));
                float[] got = c.toFloatArray();
                double worst = 0;
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < p; j++) {
                        double sum = 0, scale = 0;
                        for (int t = 0; t < k; t++) {
                            sum += (double) a[i * k + t] * b[t * p + j];
                            scale += Math.abs((double) a[i * k + t] * b[t * p + j]);
                        }
                        worst = Math.max(worst, Math.abs(got[i * p + j] - sum) / Math.max(scale, 1e-30));
                    }
                }
                // fp32 accumulation over k terms: a few ulps of the sum of magnitudes
                assertTrue(worst < 1e-5, n + "x" + k + "x" + p + ": relative error " + worst);
            }
        }
    }

    private static String cpuInfo() throws IOException {
        Path p = Path.of("/proc/cpuinfo");
        return Files.exists(p) ? Files.readString(p) : "";
    }
}
