package io.loupe.circuits;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Circuit selection and the scores of a circuit, as pure functions. */
public final class Circuits {
    private Circuits() {
    }

    /**
     * Faithfulness (Wang et al. 2022, IOI §4): {@code (m(C) − m(∅)) / (m(M) − m(∅))}, each m already averaged
     * over examples. 1 means C alone carries the behaviour, 0 means it carries none of it. NaN when
     * ablating everything changes nothing ({@code m(M) = m(∅)}).
     */
    public static double faithfulness(double mCircuit, double mEmpty, double mFull) {
        double span = mFull - mEmpty;
        return span == 0 ? Double.NaN : (mCircuit - mEmpty) / span;
    }

    /**
     * Completeness as one number: {@code 1 − (m(M∖C) − m(∅)) / (m(M) − m(∅))}, i.e. one minus the
     * faithfulness of the complement. 1 means removing C leaves nothing of the behaviour (C is complete);
     * 0 means the rest of the model still does it all. NaN when {@code m(M) = m(∅)}.
     */
    public static double completeness(double mComplement, double mEmpty, double mFull) {
        return 1 - faithfulness(mComplement, mEmpty, mFull);
    }

    /** Intersection over union {@code |A∩B| / |A∪B|}; 1 for two empty circuits. */
    public static <T> double iou(Set<T> a, Set<T> b) {
        Set<T> union = new HashSet<>(a);
        union.addAll(b);
        return union.isEmpty() ? 1.0 : intersection(a, b) / (double) union.size();
    }

    /** Share of A found in B, {@code |A∩B| / |A|}; NaN for an empty A. */
    public static <T> double containment(Set<T> a, Set<T> b) {
        return a.isEmpty() ? Double.NaN : intersection(a, b) / (double) a.size();
    }

    private static <T> int intersection(Set<T> a, Set<T> b) {
        int n = 0;
        for (T x : a) {
            if (b.contains(x)) {
                n++;
            }
        }
        return n;
    }

    /** The {@code n} nodes with the largest |score| (ties broken by node order); NaN scores never enter. */
    public static Set<Node> topN(Map<Node, Double> scores, int n) {
        List<Node> ranked = new ArrayList<>();
        scores.forEach((k, v) -> {
            if (!Double.isNaN(v)) {
                ranked.add(k);
            }
        });
        ranked.sort(Comparator.comparingDouble((Node k) -> -Math.abs(scores.get(k))).thenComparing(Comparator.naturalOrder()));
        return new LinkedHashSet<>(ranked.subList(0, Math.min(Math.max(n, 0), ranked.size())));
    }

    /** Every node whose |score| is at least {@code threshold}. */
    public static Set<Node> threshold(Map<Node, Double> scores, double threshold) {
        Set<Node> out = new LinkedHashSet<>();
        scores.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            if (Math.abs(e.getValue()) >= threshold) {
                out.add(e.getKey());
            }
        });
        return out;
    }

    /**
     * Pearson correlation {@code Σ(x−x̄)(y−ȳ) / sqrt(Σ(x−x̄)² Σ(y−ȳ)²)} over the pairs where both are
     * finite; NaN with fewer than two such pairs or when either side is constant.
     */
    public static double pearson(double[] x, double[] y) {
        if (x.length != y.length) {
            throw new IllegalArgumentException("pearson: " + x.length + " vs " + y.length + " values");
        }
        double sx = 0, sy = 0;
        int n = 0;
        for (int i = 0; i < x.length; i++) {
            if (Double.isFinite(x[i]) && Double.isFinite(y[i])) {
                sx += x[i];
                sy += y[i];
                n++;
            }
        }
        if (n < 2) {
            return Double.NaN;
        }
        double mx = sx / n, my = sy / n, cov = 0, vx = 0, vy = 0;
        for (int i = 0; i < x.length; i++) {
            if (Double.isFinite(x[i]) && Double.isFinite(y[i])) {
                cov += (x[i] - mx) * (y[i] - my);
                vx += (x[i] - mx) * (x[i] - mx);
                vy += (y[i] - my) * (y[i] - my);
            }
        }
        return vx == 0 || vy == 0 ? Double.NaN : cov / Math.sqrt(vx * vy);
    }
}
