package io.loupe.dict;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.nn.Activation;
import io.loupe.model.Runtime;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** The scattered TopK activation: same codes as masking, gradient only at the kept entries. */
class TopKTest {
    @Test
    void scatteredTopKKeepsTheKLargestAndPassesGradientOnlyThere() {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            // row 0: two positive winners; row 1: only one positive among its top 2 (relu zeroes the other)
            NDArray pre = m.create(new float[]{0.5f, -1f, 2f, 0.1f, -0.3f, -0.2f, 0.7f, -5f}, new Shape(2, 4));
            assertArrayEquals(new float[]{0.5f, 0, 2f, 0, 0, 0, 0.7f, 0}, SparseAutoencoder.scatterTopK(pre, 2).toFloatArray());
            assertArrayEquals(SparseAutoencoder.keepTopK(Activation.relu(pre), 2).toFloatArray(),
                    SparseAutoencoder.scatterTopK(pre, 2).toFloatArray(), "the same codes as masking when there are no ties");
            NDArray w = m.create(new float[]{1, 2, 3, 4, 5, 6, 7, 8}, new Shape(2, 4));
            pre.setRequiresGradient(true);
            synchronized (Runtime.AUTOGRAD) {
                try (GradientCollector gc = Runtime.engine().newGradientCollector()) {
                    gc.backward(SparseAutoencoder.scatterTopK(pre, 2).mul(w).sum());
                }
            }
            assertArrayEquals(new float[]{1, 0, 3, 0, 0, 0, 7, 0}, pre.getGradient().toFloatArray(),
                    "d/d pre is w at the kept positive entries and 0 elsewhere (relu blocks the kept negative one)");
        }
    }
}
