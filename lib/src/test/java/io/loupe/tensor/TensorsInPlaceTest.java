package io.loupe.tensor;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import io.loupe.model.Runtime;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

/** {@link Tensors#mulInto} and {@link Tensors#addInto}: in place only where autograd cannot need the old values. */
class TensorsInPlaceTest {
    @Test
    void withoutGradModeTheResultIsWrittenIntoTheFreshOperand() {
        boolean before = JniUtils.isGradMode();
        try (NDManager m = Runtime.newManager(ai.djl.Device.cpu())) {
            JniUtils.setGradMode(false);   // libtorch's default on a thread DJL has not touched is on
            NDArray fresh = m.create(new float[]{1, 2, 3}), other = m.create(new float[]{4, 5, 6});
            assertSame(fresh, Tensors.mulInto(fresh, other));
            assertArrayEquals(new float[]{4, 10, 18}, fresh.toFloatArray());
            assertSame(fresh, Tensors.addInto(fresh, other));
            assertArrayEquals(new float[]{8, 15, 24}, fresh.toFloatArray());
            // other broadcasting to fresh's shape goes in place; fresh broadcasting to other's cannot
            NDArray rows = m.create(new float[]{1, 2, 3, 4}, new Shape(2, 2));
            assertSame(rows, Tensors.mulInto(rows, m.create(new float[]{10, 100})));
            assertArrayEquals(new float[]{10, 200, 30, 400}, rows.toFloatArray());
            NDArray row = m.create(new float[]{1, 2});
            NDArray grown = Tensors.addInto(row, m.create(new float[]{1, 1, 2, 2}, new Shape(2, 2)));
            assertNotSame(row, grown);
            assertArrayEquals(new float[]{2, 3, 3, 4}, grown.toFloatArray());
        } finally {
            JniUtils.setGradMode(before);
        }
    }

    @Test
    void differentTypesPromoteAsTheProductWould() {
        try (NDManager m = Runtime.newManager(ai.djl.Device.cpu())) {
            NDArray fresh = m.create(new float[]{1.5f, 2}).toType(DataType.FLOAT16, false), other = m.create(new float[]{2, 3});
            NDArray out = Tensors.mulInto(fresh, other);
            assertNotSame(fresh, out);
            assertEquals(DataType.FLOAT32, out.getDataType());
            assertArrayEquals(new float[]{1.5f, 2}, fresh.toType(DataType.FLOAT32, false).toFloatArray());
            assertArrayEquals(new float[]{3, 6}, out.toFloatArray());
        }
    }

    /** sigmoid keeps its output for the backward pass: writing into it under a collector would make backward fail. */
    @Test
    void underAGradientCollectorTheOperandIsLeftAloneAndBackwardWorks() {
        try (NDManager m = Runtime.newManager(ai.djl.Device.cpu())) {
            NDArray x = m.create(new float[]{-1, 0, 2});
            x.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray s = Activation.sigmoid(x);
                NDArray silu = Tensors.mulInto(s, x);
                assertNotSame(s, silu);
                gc.backward(silu.sum());
            }
            // d/dx x·σ(x) = σ(x) (1 + x (1 − σ(x)))
            float[] grad = x.getGradient().toFloatArray(), xs = {-1, 0, 2};
            for (int i = 0; i < xs.length; i++) {
                double sig = 1 / (1 + Math.exp(-xs[i]));
                assertEquals(sig * (1 + xs[i] * (1 - sig)), grad[i], 1e-6);
            }
        }
    }
}
