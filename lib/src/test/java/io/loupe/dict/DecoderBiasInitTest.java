package io.loupe.dict;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.loupe.model.Runtime;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class DecoderBiasInitTest {
    @Test
    void geometricMedianIgnoresAnOutlierTheMeanFollows() {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            // Four points around the origin and one far outlier: mean (20, 20). By symmetry the geometric median is (t, t) with
            // d/dt Σ‖p − (t,t)‖ = 2(2t−1)/√(2t²−2t+1) + 2(2t+1)/√(2t²+2t+1) − √2 = 0: −0.066 at t = 0.30, +0.043 at 0.32, so t ≈ 0.312.
            var x = m.create(new float[]{1, 0, -1, 0, 0, 1, 0, -1, 100, 100}, new Shape(5, 2));
            SaeConfig base = SaeConfig.defaults(Architecture.TOPK, 2, 4, 1);
            try (SparseAutoencoder mean = SparseAutoencoder.init(base.withBDecInit("mean"), m, x);
                 SparseAutoencoder median = SparseAutoencoder.init(base.withBDecInit("median"), m, x)) {
                assertArrayEquals(new float[]{20, 20}, mean.bDec.toFloatArray(), 1e-5f);
                float[] g = median.bDec.toFloatArray();
                assertArrayEquals(new float[]{0.312f, 0.312f}, g, 0.004f);
            }
        }
    }
}
