package io.loupe.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.loupe.model.Runtime;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class GradientNormTest {
    /** Gradients (3, 4) and (12): the global norm is sqrt(9 + 16 + 144) = 13, as clip_grad_norm_ computes it. */
    @Test
    void globalNormOverEveryParameterAndNothingLeftBehind() {
        try (NDManager m = Runtime.newManager(ai.djl.Device.cpu())) {
            NDArray a = m.create(new float[]{1, 1}), b = m.create(new float[]{1});
            List<NDArray> params = List.of(a, b);
            params.forEach(p -> p.setRequiresGradient(true));
            synchronized (Runtime.AUTOGRAD) {
                try (NDManager step = m.newSubManager(); GradientCollector gc = Runtime.engine().newGradientCollector()) {
                    NDArray loss = a.mul(step.create(new float[]{3, 4})).sum().add(b.mul(12).sum());
                    gc.backward(loss);
                }
            }
            int before = m.getManagedArrays().size();
            assertEquals(13.0, GradientNorm.of(params), 1e-6);
            assertEquals(13.0, GradientNorm.of(params), 1e-6);
            // A training step calls this once: its squares and sums must not pile up on the parameters' manager.
            assertEquals(before, m.getManagedArrays().size(), "GradientNorm.of left arrays attached to the parameters' manager");
        }
    }

    @Test
    void clipFactorIsPyTorchs() {
        assertEquals(1.0, GradientNorm.clipFactor(0.5, 1.0));
        assertEquals(1.0 / (13 + 1e-6), GradientNorm.clipFactor(13, 1.0), 1e-15);
        assertEquals(1.0, GradientNorm.clipFactor(13, 0), "no clipping when the limit is 0");
    }
}
