package io.loupe.circuits;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.loupe.model.Runtime;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pure functions of circuits, on hand-computed values and their edge cases. */
class CircuitMetricsTest {
    @Test
    void logitDifferenceReadsTheAnswerPosition() {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            // B=2, T=2, V=3; example 0 reads position 1, example 1 position 0
            NDArray logits = m.create(new float[]{0, 0, 0, 1, 5, 2, 3, -1, 4, 9, 9, 9}, new Shape(2, 2, 3));
            NDArray d = LogitDiff.of(logits, m.create(new long[]{1, 0}), m.create(new long[]{1, 2}), m.create(new long[]{0, 1}));
            assertArrayEquals(new float[]{5 - 1, 4 - (-1)}, d.toFloatArray());
        }
        assertEquals(0.25, LogitDiff.normalised(2, 5, 1), 1e-12);   // (2-1)/(5-1)
        assertTrue(Double.isNaN(LogitDiff.normalised(2, 3, 3)), "no behaviour to normalise by");
    }

    @Test
    void faithfulnessAndCompletenessOnAHandCheckedExample() {
        // per-example metrics of M, C, ∅, M∖C over 3 examples; means are taken before the ratio
        double[] full = {4, 6, 5}, circuit = {3, 5, 1}, empty = {1, 1, 1}, complement = {1, 2, 3};
        double mFull = 5, mCircuit = 3, mEmpty = 1, mComplement = 2;
        assertEquals(mFull, mean(full));
        assertEquals(mCircuit, mean(circuit));
        assertEquals(mComplement, mean(complement));
        assertEquals(0.5, Circuits.faithfulness(mCircuit, mEmpty, mFull), 1e-12);      // (3-1)/(5-1)
        assertEquals(0.75, Circuits.completeness(mComplement, mEmpty, mFull), 1e-12);  // 1 - (2-1)/(5-1)
        // the ratio of means differs from the mean of per-example ratios (2/3, 4/5, 0/4 → 0.489)
        assertTrue(Math.abs(Circuits.faithfulness(mCircuit, mEmpty, mFull) - (2.0 / 3 + 4.0 / 5 + 0) / 3) > 0.01);
        assertTrue(Double.isNaN(Circuits.faithfulness(1, 2, 2)), "nothing to explain when ablating everything changes nothing");
    }

    @Test
    void overlapOfTwoCircuits() {
        Set<String> a = Set.of("h0", "h1", "h2", "m1"), b = Set.of("h1", "h2", "h3");
        assertEquals(2.0 / 5, Circuits.iou(a, b), 1e-12);
        assertEquals(2.0 / 4, Circuits.containment(a, b), 1e-12);
        assertEquals(2.0 / 3, Circuits.containment(b, a), 1e-12);
        assertEquals(1.0, Circuits.iou(Set.of(), Set.of()));
        assertTrue(Double.isNaN(Circuits.containment(Set.of(), b)));
    }

    @Test
    void pearsonWithEdgeCases() {
        assertEquals(1.0, Circuits.pearson(new double[]{1, 2, 3}, new double[]{2, 4, 6}), 1e-12);
        assertEquals(-1.0, Circuits.pearson(new double[]{1, 2, 3}, new double[]{3, 2, 1}), 1e-12);
        // x = 1,2,3,4; y = 1,3,2,4: cov = 4, var x = var y = 5 → 0.8
        assertEquals(0.8, Circuits.pearson(new double[]{1, 2, 3, 4}, new double[]{1, 3, 2, 4}), 1e-12);
        assertEquals(0.8, Circuits.pearson(new double[]{1, 2, Double.NaN, 3, 4}, new double[]{1, 3, 7, 2, 4}), 1e-12, "NaN pairs skipped");
        assertTrue(Double.isNaN(Circuits.pearson(new double[]{1}, new double[]{2})));
        assertTrue(Double.isNaN(Circuits.pearson(new double[]{}, new double[]{})));
        assertTrue(Double.isNaN(Circuits.pearson(new double[]{1, 1, 1}, new double[]{1, 2, 3})), "constant side");
        assertThrows(IllegalArgumentException.class, () -> Circuits.pearson(new double[]{1}, new double[]{1, 2}));
    }

    @Test
    void selectionByTopNAndThreshold() {
        Node h0 = new Node(NodeType.HEAD, 0, 0), h1 = new Node(NodeType.HEAD, 0, 1), m0 = new Node(NodeType.MLP, 0, 0);
        Map<Node, Double> s = new LinkedHashMap<>();
        s.put(h0, 0.1);
        s.put(h1, -0.5);
        s.put(m0, Double.NaN);
        assertEquals(List.of(h1), List.copyOf(Circuits.topN(s, 1)), "largest |score| first; negative effects count");
        assertEquals(Set.of(h0, h1), Circuits.topN(s, 10), "k beyond the nodes takes all scored ones, never NaN");
        assertEquals(Set.of(), Circuits.topN(s, 0));
        assertEquals(Set.of(h1), Circuits.threshold(s, 0.2));
        assertEquals(Set.of(), Circuits.threshold(Map.of(), 0.2));
    }

    @Test
    void scoreSumsAggregateExactlyAcrossShards() {
        Node n = new Node(NodeType.RESID_POS, 0, 2);
        List<Node> nodes = List.of(n);
        // shard 1: two examples, the second too short for position 2; shard 2: one example
        PatchResult r1 = new PatchResult(nodes, new double[]{4, 6}, new double[]{0, 2}, new double[][]{{3, 99}},
                new boolean[][]{{true, false}});
        PatchResult r2 = new PatchResult(nodes, new double[]{2}, new double[]{1}, new double[][]{{2}}, new boolean[][]{{true}});
        ScoreSums a = new ScoreSums(), b = new ScoreSums();
        a.add(r1, Direction.DENOISE);
        b.add(r2, Direction.DENOISE);
        ScoreSums.Score s = a.merge(b).scores().get(0);
        assertEquals(3, a.examples());
        assertEquals(2, s.count());
        assertEquals(2.5, s.meanMetric(), 1e-12);          // (3 + 2) / 2
        assertEquals(2.0, s.effect(), 1e-12);              // ((3-0) + (2-1)) / 2
        assertEquals(2.0 / (4 - 1), s.score(), 1e-12);     // mean clean 4, mean corrupt 1
    }

    private static double mean(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v;
        }
        return s / x.length;
    }
}
