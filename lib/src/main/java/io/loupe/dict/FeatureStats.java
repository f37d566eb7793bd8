package io.loupe.dict;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Per-latent statistics over a stream of encoded tokens, mergeable across partitions: how many tokens
 * each latent fires on ({@code f > 0}) and its {@code k} largest activations with where they happened.
 * Each batch costs two tensor reductions ({@code sum} and {@code topK} over tokens); only
 * {@code d_sae × k} candidates reach the heaps.
 */
public final class FeatureStats implements Serializable {
    /** One activating context: the value and the token it came from. */
    public record Hit(float value, String exampleId, int position) implements Serializable {
    }

    /** Orders hits by value; a class, not a lambda, so the heaps serialize between Spark tasks and the driver. */
    private static final class ByValue implements Comparator<Hit>, Serializable {
        @Override
        public int compare(Hit a, Hit b) {
            return Float.compare(a.value(), b.value());
        }
    }

    private final int dSae;
    private final int k;
    private long tokens;
    private final long[] fires;
    private final List<PriorityQueue<Hit>> top = new ArrayList<>();

    public FeatureStats(int dSae, int k) {
        if (dSae < 1 || k < 1) {
            throw new IllegalArgumentException("d_sae and k must be >= 1");
        }
        this.dSae = dSae;
        this.k = k;
        this.fires = new long[dSae];
        for (int i = 0; i < dSae; i++) {
            top.add(new PriorityQueue<>(new ByValue()));
        }
    }

    /**
     * @param codes     {@code [n, d_sae]} activations of n tokens
     * @param ids       example id of each token
     * @param positions position of each token
     */
    public void add(NDArray codes, String[] ids, int[] positions) {
        int n = (int) codes.getShape().get(0);
        tokens += n;
        long[] f = codes.gt(0).sum(new int[]{0}).toType(DataType.INT64, false).toLongArray();
        for (int i = 0; i < dSae; i++) {
            fires[i] += f[i];
        }
        int kk = Math.min(k, n);
        NDList best = codes.topK(kk, 0, true, true);                       // values and token indices, [kk, d_sae]
        float[] values = best.get(0).toType(DataType.FLOAT32, false).toFloatArray();
        long[] rows = best.get(1).toType(DataType.INT64, false).toLongArray();
        for (int j = 0; j < kk; j++) {
            for (int i = 0; i < dSae; i++) {
                float v = values[j * dSae + i];
                if (v > 0) {
                    offer(i, new Hit(v, ids[(int) rows[j * dSae + i]], positions[(int) rows[j * dSae + i]]));
                }
            }
        }
    }

    private void offer(int latent, Hit h) {
        PriorityQueue<Hit> q = top.get(latent);
        if (q.size() < k) {
            q.add(h);
        } else if (h.value() > q.peek().value()) {
            q.poll();
            q.add(h);
        }
    }

    /** Folds {@code other} (same d_sae and k) into this. */
    public FeatureStats merge(FeatureStats other) {
        if (other.dSae != dSae || other.k != k) {
            throw new IllegalArgumentException("cannot merge statistics of different shapes");
        }
        tokens += other.tokens;
        for (int i = 0; i < dSae; i++) {
            fires[i] += other.fires[i];
            for (Hit h : other.top.get(i)) {
                offer(i, h);
            }
        }
        return this;
    }

    public long tokens() {
        return tokens;
    }

    /** Fraction of tokens on which the latent fires. */
    public double frequency(int latent) {
        return tokens == 0 ? 0 : (double) fires[latent] / tokens;
    }

    public long fires(int latent) {
        return fires[latent];
    }

    /** The latent's top activations, largest first. */
    public List<Hit> top(int latent) {
        List<Hit> out = new ArrayList<>(top.get(latent));
        out.sort(Comparator.comparingDouble(Hit::value).reversed());
        return out;
    }

    public int dSae() {
        return dSae;
    }
}
