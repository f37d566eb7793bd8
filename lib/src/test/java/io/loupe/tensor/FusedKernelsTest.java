package io.loupe.tensor;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.loupe.model.MlpActivation;
import io.loupe.model.Runtime;
import org.junit.jupiter.api.Test;

import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link FusedKernels} against hand-computed values and the composite forms they replace: values, gradients, refusals. */
class FusedKernelsTest {
    private static final float[] XS = {-30f, -6f, -2f, -1f, -0.5f, 0f, 0.5f, 1f, 3f, 30f};

    @Test
    void boundOnThisPlatform() {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            assertTrue(FusedKernels.available(m.zeros(new Shape(1))), () -> "fused kernels unavailable: " + FusedKernels.unavailableReason());
        }
    }

    /** SiLU by its formula in double precision; at 1: 1 / (1 + e^-1) = 0.731059. */
    @Test
    void siluIsXTimesSigmoid() {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            assertClose(formula(x -> x / (1 + Math.exp(-x))), FusedKernels.silu(m.create(XS)).toFloatArray(), 1e-6);
            assertEquals(0.731059, FusedKernels.silu(m.create(new float[]{1f})).getFloat(0), 1e-6);
        }
    }

    /** tanh-GELU by its formula in double precision; at 1: 0.5 (1 + tanh(√(2/π) · 1.044715)) = 0.841192. */
    @Test
    void geluTanhIsTheTanhFormula() {
        double c = Math.sqrt(2 / Math.PI);
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            assertClose(formula(x -> 0.5 * x * (1 + Math.tanh(c * (x + 0.044715 * x * x * x)))), FusedKernels.geluTanh(m.create(XS)).toFloatArray(), 1e-6);
            assertEquals(0.841192, FusedKernels.geluTanh(m.create(new float[]{1f})).getFloat(0), 1e-6);
        }
    }

    /** The activations' fused and composite forms agree in value and gradient, in float32 and float64, and on an empty tensor. */
    @Test
    void fusedAndCompositeAgreeWithGradients() {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            m.getEngine().setRandomSeed(5);
            for (MlpActivation act : new MlpActivation[]{MlpActivation.SILU, MlpActivation.GELU_TANH}) {
                for (DataType type : new DataType[]{DataType.FLOAT32, DataType.FLOAT64}) {
                    NDArray x = m.randomNormal(0, 3, new Shape(4, 33), type), w = m.randomNormal(0, 1, new Shape(4, 33), type);
                    float[][] fused = valueAndGradient(x, w, act::apply);
                    float[][] composite = FusedKernels.unfused(() -> valueAndGradient(x, w, act::apply));
                    assertClose(composite[0], fused[0], 1e-6);
                    assertClose(composite[1], fused[1], 1e-5);
                }
                assertEquals(new Shape(0, 5), act.apply(m.zeros(new Shape(0, 5))).getShape());
            }
        }
    }

    @Test
    void takesOnlyFloatingPointCpuTensorsAndCanBeSwitchedOff() {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            NDArray ints = m.zeros(new Shape(2), DataType.INT64), floats = m.zeros(new Shape(2));
            assertFalse(FusedKernels.available(ints));
            assertThrows(IllegalArgumentException.class, () -> FusedKernels.silu(ints));
            assertFalse(FusedKernels.unfused(() -> FusedKernels.available(floats)));
            assertTrue(FusedKernels.available(floats), "switched back on after unfused");
        }
    }

    /** {@code f(x)} and {@code d Σ w ⊙ f(x) / dx}, on a fresh leaf (a leaf's gradient accumulates across passes). */
    private static float[][] valueAndGradient(NDArray x, NDArray w, UnaryOperator<NDArray> f) {
        synchronized (Runtime.AUTOGRAD) {
            NDArray leaf = x.duplicate();
            leaf.setRequiresGradient(true);
            NDArray y;
            try (GradientCollector gc = Runtime.engine().newGradientCollector()) {
                y = f.apply(leaf);
                gc.backward(y.mul(w).sum());
            }
            return new float[][]{y.toType(DataType.FLOAT32, false).toFloatArray(), leaf.getGradient().toType(DataType.FLOAT32, false).toFloatArray()};
        }
    }

    private static float[] formula(java.util.function.DoubleUnaryOperator f) {
        float[] out = new float[XS.length];
        for (int i = 0; i < XS.length; i++) {
            out[i] = (float) f.applyAsDouble(XS[i]);
        }
        return out;
    }

    private static void assertClose(float[] want, float[] got, double tol) {
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], tol * Math.max(1, Math.abs(want[i])), "element " + i);
        }
    }
}
