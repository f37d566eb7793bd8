package io.loupe.sparsity;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.loupe.model.Runtime;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SparsityTest {
    @Test
    void cettAndItsThresholdOnAHandComputedLayer() {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            // d_model 1, d_mlp 2, W_down = [1 2]: token x = (1, 1) gives n = (1, 2) and output 3.
            var w = m.create(new float[]{1, 2}, new Shape(1, 2));
            var x = m.create(new float[]{1, 1}, new Shape(1, 2));
            assertEquals(0.0, Cett.cett(x, w, 0.5), 1e-6);
            assertEquals(1.0 / 3, Cett.cett(x, w, 1.0), 1e-6);        // neuron 0 (output 1) is in the tail
            assertEquals(1.0, Cett.cett(x, w, 2.0), 1e-6);
            Cett.Threshold t = Cett.threshold(x, w, 0.4);              // CETT(1) = 1/3 <= 0.4 < CETT(2) = 1
            assertEquals(1.0, t.threshold(), 1e-6);
            assertEquals(0.5, t.activationRatio(), 1e-9);              // only n = 2 > 1 stays active
            Cett.Threshold none = Cett.threshold(x, w, 0.2);           // even the smallest norm overshoots
            assertEquals(0.0, none.threshold());
            assertEquals(1.0, none.activationRatio(), 1e-9);
            // Two dimensions: W_down = I, x = (3, 4): the tail (3, 0) has norm 3 of 5.
            var eye = m.create(new float[]{1, 0, 0, 1}, new Shape(2, 2));
            assertEquals(0.6, Cett.cett(m.create(new float[]{3, 4}, new Shape(1, 2)), eye, 3.5), 1e-6);
            // A token whose output cancels to zero is left out of the mean; only it: NaN.
            var ones = m.create(new float[]{1, 1}, new Shape(1, 2));
            assertTrue(Double.isNaN(Cett.cett(m.create(new float[]{1, -1}, new Shape(1, 2)), ones, 10)));
        }
    }

    @Test
    void nonzeroFractionDeadNeuronsAndMassiveActivations() {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            var x = m.create(new float[]{0, 2, 0, 0, 3, 0.001f}, new Shape(2, 3));
            assertEquals(0.5, ActivationSparsity.nonzeroFraction(x, 0.0), 1e-9);     // 1/3 and 2/3 per token
            assertEquals(1.0 / 3, ActivationSparsity.nonzeroFraction(x, 0.01), 1e-9); // 0.001 is below eps
            assertEquals(1, ActivationSparsity.deadNeurons(x, 0.0, 0.001));            // neuron 0 never fires
            assertEquals(2, ActivationSparsity.deadNeurons(x, 0.01, 0.001));           // ... nor, above eps, neuron 2
            var resid = m.create(new float[]{0.1f, -0.2f, 0.1f, 500f, 0.1f, -0.1f, 0.2f, 0.1f}, new Shape(2, 4));
            ActivationSparsity.Massive ma = ActivationSparsity.massive(resid);
            assertArrayEquals(new float[]{500f, 0.2f, 0.2f}, ma.top3());
            assertEquals(0.1, ma.median(), 1e-6);
            assertTrue(ma.flagged());
            assertFalse(ActivationSparsity.massive(m.create(new float[]{1, 2, 150}, new Shape(1, 3))).flagged(), "150 < 1000 x median 2");
            assertTrue(Double.isNaN(ActivationSparsity.nonzeroFraction(m.zeros(new Shape(0, 3)), 0)));
        }
    }

    @Test
    void siluLawRefitsThePublishedConstants() {
        // Luo et al. 2024, 0.1B SiLU model: alpha = 0.479, c = 0.102, A0 = 0.409.
        double[] d = new double[20], a = new double[20];
        for (int i = 0; i < d.length; i++) {
            d[i] = 1 + 10 * i;
            a[i] = -0.102 * Math.pow(d[i], -0.479) + 0.409;
        }
        LawFit.Result r = LawFit.silu(d, a, new double[]{0.2, 0.3, 0.5});
        assertArrayEquals(new double[]{0.102, 0.479, 0.409}, r.params(), 1e-6);
        assertTrue(r.mse() < 1e-20);
        assertArrayEquals(new double[]{0.102, 0.479, 0.409}, LawFit.siluFromData(d, a).params(), 1e-6, "from data-derived starting values");
        assertEquals(a[3], r.at(d[3]), 1e-12);
    }

    @Test
    void lawsRecoverKnownParametersFromNoisyPoints() {
        Random rnd = new Random(4);
        double[] d = new double[40], silu = new double[40], relu = new double[40];
        for (int i = 0; i < d.length; i++) {
            d[i] = 0.5 + 5 * i;
            silu[i] = -0.2 * Math.pow(d[i], -0.6) + 0.5 + 1e-4 * rnd.nextGaussian();
            relu[i] = Math.exp(-0.8 * Math.pow(d[i], 0.5) - 1.0) + 0.1 + 1e-4 * rnd.nextGaussian();
        }
        LawFit.Result s = LawFit.silu(d, silu, new double[]{0.1, 0.3, 0.4});
        assertArrayEquals(new double[]{0.2, 0.6, 0.5}, s.params(), 0.02);
        for (int j = 0; j < 3; j++) {
            assertTrue(Math.abs(s.params()[j] - new double[]{0.2, 0.6, 0.5}[j]) < 5 * s.stdErrors()[j] + 1e-4, "within 5 standard errors");
        }
        LawFit.Result r = LawFit.relu(d, relu, new double[]{1.0, 0.4, -0.5, 0.05});
        assertArrayEquals(new double[]{0.8, 0.5, -1.0, 0.1}, r.params(), 0.05);
        assertTrue(r.mse() < 1e-7, "mse " + r.mse());
        assertArrayEquals(new double[]{0.2, 0.6, 0.5}, LawFit.siluFromData(d, silu).params(), 0.02);
        assertArrayEquals(new double[]{0.8, 0.5, -1.0, 0.1}, LawFit.reluFromData(d, relu).params(), 0.05);
        assertEquals(Math.exp(-0.8 * Math.pow(d[5], 0.5) - 1.0) + 0.1, r.at(d[5]), 1e-3);
    }
}
