package io.loupe.unlearn;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.loupe.model.Runtime;
import io.loupe.tensor.Tensors;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Each unlearning loss against a value computed by hand. */
class UnlearningLossesTest {
    @Test
    void ascentAndDifference() {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            assertEquals(-2.0, Tensors.scalar(UnlearningLosses.gradientAscent(m.create(6f), 3)), 1e-6);            // −6/3
            assertEquals(-1.0, Tensors.scalar(UnlearningLosses.gradientDifference(m.create(6f), 3, m.create(4f), 2, 0.5)), 1e-6);   // −2 + 0.5·2
        }
    }

    @Test
    void klFromReferenceOverTargetPositions() {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            // position 0: p_ref = (1/2, 1/2), p = (1/4, 3/4); position 1 is not a target and must not count
            NDArray ref = m.create(new float[]{0.5f, 0.5f, 0.9f, 0.1f}, new Shape(1, 2, 2)).log();
            NDArray p = m.create(new float[]{0.25f, 0.75f, 0.1f, 0.9f}, new Shape(1, 2, 2)).log();
            NDArray w = m.create(new float[]{1, 0}, new Shape(1, 2));
            double want = 0.5 * Math.log(0.5 / 0.25) + 0.5 * Math.log(0.5 / 0.75);   // 0.143841
            assertEquals(want, Tensors.scalar(UnlearningLosses.klToReference(p, ref, w)), 1e-6);
            assertEquals(-2 + 3 * want, Tensors.scalar(UnlearningLosses.klRegularisedAscent(m.create(6f), 3, m.create((float) want), 3)), 1e-5);
        }
    }

    @Test
    void npoOnHandComputedLikelihoods() {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            NDArray logp = m.create(new float[]{-2, -1}), ref = m.create(new float[]{-1.5f, -1.5f});
            // z = 0.5 · (−0.5, 0.5); softplus(−0.25) = 0.575939, softplus(0.25) = 0.825939; mean 0.700939; · 2/β = 2.803756
            double want = (Math.log1p(Math.exp(-0.25)) + Math.log1p(Math.exp(0.25))) / 2 * (2 / 0.5);
            assertEquals(want, Tensors.scalar(UnlearningLosses.npo(logp, ref, 0.5)), 1e-5);
            // a huge likelihood ratio stays finite (softplus, not log(1 + e^z))
            assertEquals(2 / 1.0 * 400 / 2, Tensors.scalar(UnlearningLosses.npo(m.create(new float[]{0, 0}), m.create(new float[]{-400, 400}), 1.0)), 1e-3);
            assertEquals(2.0 + 0.5 * 4 / 2, Tensors.scalar(UnlearningLosses.npoWithRetain(m.create(2f), m.create(4f), 2, 0.5)), 1e-6);
            assertThrows(IllegalArgumentException.class, () -> UnlearningLosses.npo(logp, ref, 0));
        }
    }

    @Test
    void rmuMeanSquaresOverRealTokens() {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            NDArray hf = m.create(new float[]{1, 2, 100, 100}, new Shape(1, 2, 2));     // the second token is padding
            NDArray fm = m.create(new long[]{1, 0}, new Shape(1, 2));
            NDArray control = m.create(new float[]{0, 1});
            NDArray hr = m.create(new float[]{1, 1}, new Shape(1, 1, 2)), href = m.create(new float[]{0, 0}, new Shape(1, 1, 2));
            NDArray rm = m.create(new long[]{1}, new Shape(1, 1));
            // forget: ((1−0)² + (2−1)²) / (1 token · 2) = 1; retain: (1 + 1) / 2 = 1; L = 1 + 2 · 1
            assertEquals(3.0, Tensors.scalar(UnlearningLosses.rmu(hf, fm, control, hr, href, rm, 2)), 1e-6);
        }
    }

    @Test
    void rmuControlVectorHasLengthC() {
        float[] u = UnlearningObjective.controlVector(64, 6.5, 3);
        double norm = 0;
        for (float v : u) {
            norm += v * v;
            assertEquals(true, v >= 0, "components are uniform in [0, 1) before scaling");
        }
        assertEquals(6.5, Math.sqrt(norm), 1e-5);
    }
}
