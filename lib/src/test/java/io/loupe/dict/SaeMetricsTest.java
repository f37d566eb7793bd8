package io.loupe.dict;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.loupe.model.Runtime;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SaeMetricsTest {
    @Test
    void handComputedMseFvuAndL0() {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            // x rows (1,2), (3,4): mean (2,3); Σ‖x − x̄‖² = (1+1) + (1+1) = 4.
            var x = m.create(new float[]{1, 2, 3, 4}, new Shape(2, 2));
            var xHat = m.create(new float[]{1, 1, 3, 5}, new Shape(2, 2));   // errors 0, 1, 0, 1 -> Σ = 2
            assertEquals(0.5, SaeMetrics.mse(x, xHat), 1e-9);               // 2 / 4 elements
            assertEquals(0.5, SaeMetrics.fvu(x, xHat), 1e-9);               // 2 / 4
            assertEquals(0.0, SaeMetrics.fvu(x, x), 1e-9);
            assertTrue(Double.isNaN(SaeMetrics.fvu(m.ones(new Shape(3, 2)), m.zeros(new Shape(3, 2)))), "no variance -> NaN");
            var f = m.create(new float[]{0, 2, 0, 1, 3, 0, 0, 0}, new Shape(2, 4));
            assertEquals(1.5, SaeMetrics.meanL0(f), 1e-9);                  // 2 and 1 active
            float[] freq = SaeMetrics.frequencies(f);
            assertArrayEquals(new float[]{0.5f, 0.5f, 0f, 0.5f}, freq);
            assertEquals(1, SaeMetrics.dead(freq));
            assertEquals(3, SaeMetrics.dense(freq, 0.1));
            assertEquals(0, SaeMetrics.dense(freq, 0.5));
        }
    }

    @Test
    void densityHistogramBinsLog10Frequencies() {
        // lo = -4, 4 bins of width 1: [-4,-3) [-3,-2) [-2,-1) [-1,0]
        long[] h = SaeMetrics.densityHistogram(new float[]{0f, 1e-5f, 2e-4f, 5e-3f, 0.05f, 1f}, -4, 4);
        assertArrayEquals(new long[]{2, 1, 1, 1}, h);                       // 1e-5 clamps into bin 0; the dead latent is not counted
    }

    @Test
    void warningsForAPoorFitOrMostlyDeadLatents() {
        assertEquals(java.util.List.of(), SaeMetrics.warnings(0.5, 8, 16), "at both boundaries: no warning");
        var w = SaeMetrics.warnings(0.93, 9, 16);
        assertEquals(2, w.size(), w.toString());
        assertTrue(w.get(0).startsWith("FVU 0.930 > 0.5"), w.get(0));
        assertEquals("9 of 16 latents dead (more than half)", w.get(1));
        assertEquals(1, SaeMetrics.warnings(Double.NaN, 0, 16).size(), "an undefined FVU is not a good one");
    }
}
