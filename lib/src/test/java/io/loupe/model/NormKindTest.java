package io.loupe.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** Each norm on a hand-computed case, over the last axis only (two rows that differ by a shift and a scale). */
class NormKindTest {
    // Row [1, 2, 3, 4]: mean 2.5, biased variance 1.25, mean square 7.5. Row [2, 4, 6, 8] + 10 for LayerNorm's shift.
    private static final float[] X = {1, 2, 3, 4, 12, 14, 16, 18};
    private static final float[] W = {1, 1, 2, 2};
    private static final float[] B = {0, 0, 1, 1};

    @Test
    void layerNormCentresAndScalesEachRowThenAppliesGainAndBias() {
        double sd = Math.sqrt(1.25), sd2 = Math.sqrt(5.0);   // row 2: mean 15, variance 5
        float[] want = {(float) (-1.5 / sd), (float) (-0.5 / sd), (float) (2 * 0.5 / sd + 1), (float) (2 * 1.5 / sd + 1),
                (float) (-3 / sd2), (float) (-1 / sd2), (float) (2 * 1 / sd2 + 1), (float) (2 * 3 / sd2 + 1)};
        assertArrayEquals(want, apply(NormKind.LAYER_NORM, true), 1e-5f);
    }

    @Test
    void rmsNormsDivideByTheRootMeanSquare() {
        double r = Math.sqrt(7.5), r2 = Math.sqrt((144 + 196 + 256 + 324) / 4.0);
        float[] want = {(float) (1 / r), (float) (2 / r), (float) (2 * 3 / r), (float) (2 * 4 / r),
                (float) (12 / r2), (float) (14 / r2), (float) (2 * 16 / r2), (float) (2 * 18 / r2)};
        assertArrayEquals(want, apply(NormKind.RMS, false), 1e-5f);
        assertArrayEquals(want, applyOnePlus(), 1e-5f);   // Gemma's (1 + w) with the stored w = W - 1: the same
    }

    /**
     * A zero row (a zero-initialised residual, say) stays zero and its gradient stays finite: with ε the scale is
     * 1/sqrt(ε), so d/dx Σ(g ⊙ RMS(x)) at 0 is g·w/sqrt(ε), which the fused norm's backward must not turn into NaN.
     */
    @Test
    void rmsOfAZeroRowIsZeroWithAFiniteGradient() {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            NDArray x = m.zeros(new Shape(1, 1, 4));
            x.setRequiresGradient(true);
            float[] out;
            synchronized (Runtime.AUTOGRAD) {
                try (NDManager step = m.newSubManager(); GradientCollector gc = Runtime.engine().newGradientCollector()) {
                    NDArray y = NormKind.RMS.apply(x, m.create(W), null, 0.25);
                    out = y.toFloatArray();
                    gc.backward(y.mul(step.create(new float[]{1, -1, 1, -1})).sum());
                }
            }
            assertArrayEquals(new float[4], out);
            assertArrayEquals(new float[]{2, -2, 4, -4}, x.getGradient().toFloatArray(), 1e-5f);   // g·w / sqrt(0.25)
        }
    }

    private static float[] apply(NormKind kind, boolean bias) {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            NDArray x = m.create(X, new Shape(1, 2, 4));
            return kind.apply(x, m.create(W), bias ? m.create(B) : null, 0).toFloatArray();
        }
    }

    private static float[] applyOnePlus() {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            NDArray x = m.create(X, new Shape(1, 2, 4));
            return NormKind.RMS_ONE_PLUS.apply(x, m.create(W).sub(1), null, 0).toFloatArray();
        }
    }
}
