package io.loupe.unlearn.metrics;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every unlearning metric on a hand-computed case (or scipy's value, named), with the edge cases. */
class MetricsTest {
    @Test
    void membershipScores() {
        double[] lp = {-1, -4, -2, -0.5, -3};
        assertEquals(2.1, MembershipScores.loss(lp), 1e-12);
        assertEquals(3.5, MembershipScores.minK(lp, 0.4), 1e-12);          // floor(5 · 0.4) = 2 lowest: −4, −3
        assertEquals(4.0, MembershipScores.minK(lp, 0.3), 1e-12);          // floor(1.5) = 1: −4
        assertEquals(2.1, MembershipScores.minK(lp, 1.0), 1e-12);
        assertTrue(Double.isNaN(MembershipScores.minK(new double[]{-2}, 0.4)), "one token, floor(0.4) = 0: NaN as the anchor");
        assertEquals(2.0, MembershipScores.minK(new double[]{-1, -2, -2, -1}, 0.5), 1e-12, "ties: both −2 are the two lowest");
        // Min-K%++: z = (lp − μ) / σ = (−1 − (−2)) / 2 = 0.5 and (−4 − (−1)) / 1 = −3: the lowest one is −3
        assertEquals(3.0, MembershipScores.minKPlusPlus(new double[]{-1, -4}, new double[]{-2, -1}, new double[]{2, 1}, 0.5), 1e-12);
        // zlib lengths from Python's zlib.compress (default level): 16, 60, 10 and 8 bytes
        assertEquals(16, MembershipScores.zlibLength("hello hello hello hello"));
        assertEquals(60, MembershipScores.zlibLength("Once upon a time, there was a little girl named Bimo."));
        assertEquals(10, MembershipScores.zlibLength("é"));
        assertEquals(8, MembershipScores.zlibLength(""));
        assertEquals(2.1 / 16, MembershipScores.zlib(2.1, "hello hello hello hello"), 1e-12);
    }

    @Test
    void aucWithTiesAndPrivLeak() {
        // pairs (member, non-member): (1,2) (1,4) (2,2)=tie (2,4) (3,2) (3,4) -> (1 + 1 + 0.5 + 1 + 0 + 1) / 6
        assertEquals(0.75, Auc.of(new double[]{1, 2, 3}, new double[]{2, 4}), 1e-12);
        assertEquals(0.5, Auc.of(new double[]{1, 1}, new double[]{1}), 1e-12);
        assertEquals(1.0, Auc.of(new double[]{0, 1}, new double[]{2, 3, Double.NaN}), 1e-12, "NaN scores are left out");
        assertTrue(Double.isNaN(Auc.of(new double[]{}, new double[]{1})));
        assertEquals(-80, Auc.privLeak(0.9, 0.5), 1e-9);   // ((1 − 0.9) − (1 − 0.5)) / (1 − 0.5) · 100
        assertEquals(0, Auc.privLeak(0.6, 0.6), 1e-12);
    }

    /** Statistics and p-values of scipy 1.17.1's {@code ks_2samp(x, y, method="exact")} on the same samples. */
    @Test
    void ksTestMatchesScipyExact() {
        check(new double[]{0.1, 0.5, 0.9, 1.3}, new double[]{0.2, 0.3, 2.0, 2.5, 3.0}, 0.6, 0.2857142857142857);
        check(new double[]{1, 2, 3, 4, 5}, new double[]{6, 7, 8, 9, 10}, 1.0, 0.007936507936507936);     // 2 / binom(10, 5)
        check(new double[]{1, 2, 2, 3}, new double[]{2, 2, 4, 5}, 0.5, 0.7714285714285716);
        double[] a = new double[20], b = new double[13];
        for (int i = 0; i < 20; i++) {
            a[i] = i / 19.0;
        }
        for (int i = 0; i < 13; i++) {
            b[i] = 0.3 + 1.1 * i / 12.0;
        }
        check(a, b, 0.38846153846153847, 0.1449723940571259);
        check(new double[]{0.5, 0.5, 0.5}, new double[]{0.5, 0.5, 0.5, 0.5}, 0.0, 1.0);
        double[] c = new double[30], d = new double[30];
        for (int i = 0; i < 30; i++) {
            c[i] = i * 0.1;
            d[i] = i * 0.1 + 0.35;
        }
        check(c, d, 0.13333333333333333, 0.9578462903438838);
        assertThrows(IllegalArgumentException.class, () -> KsTest.twoSided(new double[0], new double[]{1}));
    }

    private static void check(double[] x, double[] y, double statistic, double p) {
        KsTest.Result r = KsTest.twoSided(x, y);
        assertEquals(statistic, r.statistic(), 1e-12);
        assertEquals(p, r.pValue(), 1e-12);
    }

    @Test
    void rougeLAsRougeScorerWithoutStemming() {
        RougeL.Score s = RougeL.score("The cat sat on the mat.", "the cat is on a mat");
        assertEquals(4.0 / 6, s.recall(), 1e-12);      // LCS: the cat on mat
        assertEquals(4.0 / 6, s.precision(), 1e-12);
        assertEquals(4.0 / 6, s.f1(), 1e-12);
        assertEquals(List.of("lily", "s", "dog", "is", "max", "2"), RougeL.tokens("Lily's dog is MAX-2!"));
        assertEquals(0, RougeL.score("a b", "").f1());
        assertEquals(0, RougeL.score("", "").recall());
        RougeL.Score partial = RougeL.score("Bimo has a pet dog", "Bimo has a dog and a cat");   // LCS bimo has a dog: 4
        assertEquals(4.0 / 5, partial.recall(), 1e-12);
        assertEquals(4.0 / 7, partial.precision(), 1e-12);
        assertEquals(2 * (4.0 / 5) * (4.0 / 7) / (4.0 / 5 + 4.0 / 7), partial.f1(), 1e-12);
    }

    @Test
    void truthRatioAndUtility() {
        double r = TruthRatio.ratio(1.0, new double[]{2, 3});
        assertEquals(Math.exp(-1.5), r, 1e-12);
        assertEquals(Math.exp(-1.5), TruthRatio.forgetStatistic(r), 1e-12);
        assertEquals(Math.exp(-1.5), TruthRatio.forgetStatistic(1 / r), 1e-12);
        assertEquals(1 - Math.exp(-1.5), TruthRatio.retainStatistic(r), 1e-12);
        assertEquals(0, TruthRatio.retainStatistic(2.0));
        assertEquals(1.0 / 3, TruthRatio.harmonicMean(0.5, 0.25), 1e-12);
        assertEquals(0, TruthRatio.harmonicMean(0.5, 0));
        assertEquals(0.5, TruthRatio.harmonicMean(0.5, Double.NaN), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> TruthRatio.ratio(1, new double[0]));
    }

    @Test
    void linearCkaOnHandCases() {
        // x = (1, 2, 3), y = (1, 0, 2): centred (−1, 0, 1), (0, −1, 1); (yᵀx)² = 1, xᵀx = 2, yᵀy = 2 -> 1 / 4
        LinearCka c = new LinearCka(1, 1).add(new float[]{1, 2, 3}, new float[]{1, 0, 2}, 3);
        assertEquals(0.25, c.value(), 1e-12);
        float[] x = {1, 0, 2, 1, 0, 3, 4, 1, 1, 2, 2, 0, 3, 1, 1};   // 5 rows x 3
        float[] scaledRotated = new float[15];
        for (int r = 0; r < 5; r++) {   // y = 3 · (x2, x0, x1): a permutation and a scale
            scaledRotated[r * 3] = 3 * x[r * 3 + 2];
            scaledRotated[r * 3 + 1] = 3 * x[r * 3];
            scaledRotated[r * 3 + 2] = 3 * x[r * 3 + 1];
        }
        assertEquals(1.0, new LinearCka(3, 3).add(x, scaledRotated, 5).value(), 1e-12);
        LinearCka whole = new LinearCka(3, 3).add(x, scaledRotated, 5);
        LinearCka a = new LinearCka(3, 3).add(java.util.Arrays.copyOf(x, 6), java.util.Arrays.copyOf(scaledRotated, 6), 2);
        LinearCka b = new LinearCka(3, 3).add(java.util.Arrays.copyOfRange(x, 6, 15), java.util.Arrays.copyOfRange(scaledRotated, 6, 15), 3);
        assertEquals(whole.value(), a.merge(b).value(), 1e-12, "sums merge exactly");
        assertTrue(Double.isNaN(new LinearCka(1, 1).add(new float[]{1}, new float[]{2}, 1).value()), "one row: NaN");
        assertTrue(Double.isNaN(new LinearCka(1, 1).add(new float[]{1, 1}, new float[]{2, 3}, 2).value()), "a constant representation: NaN");
    }

    @Test
    void ridgeProbeSeparatesClasses() {
        double[][] x = {{1, 0}, {1.1, 0.1}, {0, 1}, {0.1, 1.2}, {-1, -1}, {-1.2, -0.9}};
        List<String> y = List.of("dog", "dog", "cat", "cat", "fish", "fish");
        RidgeProbe p = RidgeProbe.fit(x, y, 1e-3);
        assertEquals(1.0, p.accuracy(x, y));
        assertEquals("cat", p.predict(new double[]{0.05, 0.9}));
        assertEquals(0.5, p.accuracy(new double[][]{{1, 0}, {1, 0}}, List.of("dog", "cat")));
        assertTrue(Double.isNaN(p.accuracy(new double[0][], List.of())));
        assertThrows(IllegalArgumentException.class, () -> RidgeProbe.fit(new double[0][], List.of(), 1e-3));
    }
}
