package io.loupe.circuits;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.loupe.hooks.HookPoint;
import io.loupe.hooks.Hooks;
import io.loupe.model.LanguageModel;

import java.io.Serializable;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Per-position sums and counts of hook activations over the corrupted prompts, mergeable across shards
 * so the mean is exact (a sum of sums, never an average of averages). The mean at position t averages
 * the examples at least t+1 tokens long; a position no example reached gets the mean over all positions.
 */
public final class AblationMeans implements Serializable {
    private final Map<String, double[]> sums = new HashMap<>();   // hook name -> [T_max · width]
    private final Map<String, long[]> shapes = new HashMap<>();   // hook name -> activation shape after [B, T]
    private long[] counts = new long[0];                           // examples reaching each position

    /** Adds one batch of corrupted prompts at {@code points}. */
    public void add(LanguageModel model, List<TaskExample> examples, Set<HookPoint> points) {
        try (NDManager m = model.manager().newSubManager()) {
            TaskBatch batch = TaskBatch.of(m, examples);
            Hooks hooks = new Hooks().capture(points);
            model.forward(batch.corrupt(), hooks);
            int seq = batch.corrupt().seqLen();
            grow(seq);
            for (int len : batch.corrupt().lengths()) {
                for (int t = 0; t < len; t++) {
                    counts[t]++;
                }
            }
            NDArray real = batch.corrupt().mask().toType(model.dataType(), false);                 // [B, T]
            for (HookPoint p : points) {
                NDArray a = hooks.captured(p);
                long[] rest = a.getShape().slice(2).getShape();
                NDArray masked = a.mul(real.reshape(new Shape(real.getShape().get(0), seq).addAll(ones(rest.length))));
                accumulate(p.name(), masked.sum(new int[]{0}).toType(DataType.FLOAT64, false).toDoubleArray(), rest);   // [T · width]
            }
        }
    }

    /** Adds another shard's sums into this one. */
    public AblationMeans merge(AblationMeans o) {
        grow(o.counts.length);
        for (int t = 0; t < o.counts.length; t++) {
            counts[t] += o.counts[t];
        }
        o.sums.forEach((name, s) -> accumulate(name, s, o.shapes.get(name)));
        return this;
    }

    /** Adds per-position sums {@code [T · width]} for one hook, growing its array to the longer of the two. */
    private void accumulate(String name, double[] s, long[] shape) {
        shapes.putIfAbsent(name, shape);
        double[] acc = sums.getOrDefault(name, new double[0]);
        if (acc.length < s.length) {
            acc = java.util.Arrays.copyOf(acc, s.length);
        }
        for (int i = 0; i < s.length; i++) {
            acc[i] += s[i];
        }
        sums.put(name, acc);
    }

    /** The mean at {@code point} for positions {@code 0..seq-1}, shaped {@code [1, seq, ...]} to broadcast over a batch. */
    public NDArray mean(HookPoint point, int seq, NDManager m, DataType dtype) {
        double[] s = sums.get(point.name());
        if (s == null) {
            throw new IllegalStateException("no mean was accumulated at " + point);
        }
        long[] rest = shapes.get(point.name());
        int width = (int) new Shape(rest).size();
        double[] overall = new double[width];
        long total = 0;
        for (int t = 0; t < counts.length; t++) {
            total += counts[t];
            for (int i = 0; i < width; i++) {
                overall[i] += s[t * width + i];
            }
        }
        float[] out = new float[seq * width];
        for (int t = 0; t < seq; t++) {
            for (int i = 0; i < width; i++) {
                boolean seen = t < counts.length && counts[t] > 0;
                out[t * width + i] = (float) (seen ? s[t * width + i] / counts[t] : overall[i] / Math.max(1, total));
            }
        }
        return m.create(out, new Shape(1, seq).addAll(new Shape(rest))).toType(dtype, false);
    }

    public long examples() {
        return counts.length == 0 ? 0 : counts[0];
    }

    private void grow(int seq) {
        if (counts.length < seq) {
            counts = java.util.Arrays.copyOf(counts, seq);
        }
    }

    private static Shape ones(int n) {
        long[] o = new long[n];
        java.util.Arrays.fill(o, 1);
        return new Shape(o);
    }
}
