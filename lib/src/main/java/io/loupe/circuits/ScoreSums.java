package io.loupe.circuits;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Sums and counts behind one method's node scores, added batch by batch and merged across shards, so
 * every mean is exact (a sum of sums over a count of counts, never an average of averages).
 *
 * <p>For a node, with Δ = m(patched) − m(target run) over the examples where the node exists:
 * {@code effect = mean Δ}, {@code score = effect / (mean m_clean − mean m_corrupt)}. A denoising score near
 * 1 means the node alone restores the behaviour; a noising score near −1 means removing it destroys it.
 */
public final class ScoreSums implements Serializable {
    private final Map<Node, double[]> perNode = new LinkedHashMap<>();   // node -> {Σ m_patched, Σ Δ, count}
    private double sumClean;
    private double sumCorrupt;
    private long examples;

    /** One node's aggregated figures. */
    public record Score(Node node, double meanMetric, double effect, double score, long count) {
    }

    public void add(PatchResult r, Direction dir) {
        for (int b = 0; b < r.mClean().length; b++) {
            sumClean += r.mClean()[b];
            sumCorrupt += r.mCorrupt()[b];
        }
        examples += r.mClean().length;
        double[] target = dir.fromClean() ? r.mCorrupt() : r.mClean();
        for (int n = 0; n < r.nodes().size(); n++) {
            double[] acc = perNode.computeIfAbsent(r.nodes().get(n), k -> new double[3]);
            for (int b = 0; b < target.length; b++) {
                if (r.valid()[n][b]) {
                    acc[0] += r.patched()[n][b];
                    acc[1] += r.patched()[n][b] - target[b];
                    acc[2]++;
                }
            }
        }
    }

    public ScoreSums merge(ScoreSums o) {
        sumClean += o.sumClean;
        sumCorrupt += o.sumCorrupt;
        examples += o.examples;
        o.perNode.forEach((k, v) -> {
            double[] acc = perNode.computeIfAbsent(k, x -> new double[3]);
            for (int i = 0; i < 3; i++) {
                acc[i] += v[i];
            }
        });
        return this;
    }

    public long examples() {
        return examples;
    }

    public double meanClean() {
        return examples == 0 ? Double.NaN : sumClean / examples;
    }

    public double meanCorrupt() {
        return examples == 0 ? Double.NaN : sumCorrupt / examples;
    }

    /** Per node in node order; nodes no example reached have NaN figures and count 0. */
    public List<Score> scores() {
        double span = meanClean() - meanCorrupt();
        return perNode.entrySet().stream().sorted(Map.Entry.comparingByKey()).map(e -> {
            double[] a = e.getValue();
            double effect = a[2] == 0 ? Double.NaN : a[1] / a[2];
            return new Score(e.getKey(), a[2] == 0 ? Double.NaN : a[0] / a[2], effect, span == 0 ? Double.NaN : effect / span, (long) a[2]);
        }).toList();
    }
}
