package io.loupe.dict;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The SAE scaling-law fits recover planted constants; their standard errors cover the truth under noise. */
class ScalingLawsTest {
    /** Gao et al.'s fitted joint constants (their Table/§3.1.2), planted. */
    private static final double[] GAO = {-0.50, 0.26, -0.017, -0.042, -1.32, -0.085};

    @Test
    void latentsLawRecoversAPlantedPowerLawWithItsIrreducibleTerm() {
        double[] truth = {2.0, 0.5, 0.05};
        double[] n = new double[10], exact = new double[10], noisy = new double[10];
        Random rnd = new Random(1);
        for (int i = 0; i < n.length; i++) {
            n[i] = Math.pow(2, 8 + i);
            exact[i] = truth[0] * Math.pow(n[i], -truth[1]) + truth[2];
            noisy[i] = exact[i] + 2e-4 * rnd.nextGaussian();   // homoscedastic, as the standard errors assume
        }
        ScalingLaws.Law f = ScalingLaws.latents(n, exact);
        assertArrayEquals(truth, f.params(), 1e-6, "noise-free points give the planted constants");
        assertEquals(0, f.mse(), 1e-18);
        ScalingLaws.Law g = ScalingLaws.latents(n, noisy);
        for (int j = 0; j < 3; j++) {
            assertTrue(Math.abs(g.params()[j] - truth[j]) <= 4 * g.stdErrors()[j], "parameter " + j + ": " + g.params()[j] + " ± "
                    + g.stdErrors()[j] + " should cover " + truth[j]);
        }
        assertEquals(noisy[3], g.at(n[3], 0), 0.01 * noisy[3], "the fitted law passes near the points");
    }

    @Test
    void jointLawRecoversGaoEtAlsConstants() {
        List<double[]> pts = new ArrayList<>();
        for (int e = 10; e <= 17; e++) {
            for (int k : new int[]{8, 16, 32, 64, 128, 256}) {
                pts.add(new double[]{Math.pow(2, e), k});
            }
        }
        double[] n = new double[pts.size()], k = new double[pts.size()], l = new double[pts.size()];
        ScalingLaws.Law planted = new ScalingLaws.Law("joint", GAO, new double[6], 0);
        for (int i = 0; i < pts.size(); i++) {
            n[i] = pts.get(i)[0];
            k[i] = pts.get(i)[1];
            l[i] = planted.at(n[i], k[i]);
        }
        ScalingLaws.Law f = ScalingLaws.joint(n, k, l);
        assertArrayEquals(GAO, f.params(), 1e-4, "the planted joint law");
        assertEquals(l[7], f.at(n[7], k[7]), 1e-9);
    }

    @Test
    void tooFewPointsOrNonPositiveLossesAreRefused() {
        var few = assertThrows(IllegalArgumentException.class, () -> ScalingLaws.latents(new double[]{1, 2, 4}, new double[]{0.3, 0.2, 0.1}));
        assertTrue(few.getMessage().contains("more points than parameters"), few.getMessage());
        var zero = assertThrows(IllegalArgumentException.class,
                () -> ScalingLaws.latents(new double[]{1, 2, 4, 8, 16}, new double[]{0.3, 0.2, 0.1, 0, 0.05}));
        assertTrue(zero.getMessage().contains("positive and finite"), zero.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ScalingLaws.latents(new double[]{1, 2, 4, 8, 16}, new double[]{0.3, 0.2, Double.NaN, 0.1, 0.05}));
    }
}
