package io.loupe.sparsity;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import io.loupe.hooks.HookKind;
import io.loupe.hooks.HookPoint;
import io.loupe.hooks.Hooks;
import io.loupe.model.LanguageModel;
import io.loupe.model.NextTokenLoss;
import io.loupe.model.TokenBatch;
import io.loupe.tensor.Tensors;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

/**
 * One streaming pass of a model over a prompt shard, returning sums and counts that merge exactly
 * across shards (a sum of sums, never an average of averages). What a pass computes is set by its
 * {@link Request}: target-free statistics and the dense loss, CETT at a grid of thresholds per layer,
 * and the loss with every layer sparsified at given thresholds. Definitions are those of {@link Cett}
 * and {@link ActivationSparsity}; x is {@code mlp.hook_post} over real tokens.
 */
public final class SparsityPass {
    /** log10 bins of |hook_resid_post| for the median: 1e-8 .. 1e8, 100 per decade (2.3% wide). */
    static final double HIST_LO = -8;
    static final int HIST_PER_DECADE = 100;
    static final int HIST_BINS = 16 * HIST_PER_DECADE;

    private SparsityPass() {
    }

    /**
     * @param stats      nonzero counts, neuron activity, massive-activation figures and the dense loss
     * @param grids      per layer, thresholds at which to evaluate CETT and count n_i &gt; t; null for none
     * @param thresholds per layer, the thresholds to sparsify at for the sparse loss; null for none
     */
    public record Request(boolean stats, double[][] grids, double[] thresholds) implements Serializable {
    }

    /** The sums of one pass; {@link #merge} adds another shard's. */
    public static final class Sums implements Serializable {
        public long tokens;            // real tokens
        public long lossPositions;     // positions with a real next token
        public double nllDense;
        public double nllSparse;
        public long[] nonzero;         // [layer] count of |x_i| > eps
        public long[][] neuronActive;  // [layer][d_mlp] tokens on which neuron i is active
        public float[][] top3;         // [layer][3] largest |h| of hook_resid_post
        public long[][] absHist;       // [layer][HIST_BINS] histogram of log10 |h|
        public long[] live;            // [layer] tokens whose MLP output is non-zero (the CETT mean is over these)
        public double[][] cettSum;     // [layer][grid] Σ over live tokens of the CETT ratio at grid[g]
        public long[][] above;         // [layer][grid] count of (token, neuron) with n_i > grid[g]
        public int dMlp;

        public Sums merge(Sums o) {
            tokens += o.tokens;
            lossPositions += o.lossPositions;
            nllDense += o.nllDense;
            nllSparse += o.nllSparse;
            nonzero = add(nonzero, o.nonzero);
            neuronActive = add(neuronActive, o.neuronActive);
            absHist = add(absHist, o.absHist);
            live = add(live, o.live);
            above = add(above, o.above);
            if (o.cettSum != null) {
                if (cettSum == null) {
                    cettSum = o.cettSum;
                } else {
                    for (int l = 0; l < cettSum.length; l++) {
                        for (int g = 0; g < cettSum[l].length; g++) {
                            cettSum[l][g] += o.cettSum[l][g];
                        }
                    }
                }
            }
            if (o.top3 != null) {
                if (top3 == null) {
                    top3 = o.top3;
                } else {
                    for (int l = 0; l < top3.length; l++) {
                        top3[l] = top3Of(top3[l], o.top3[l]);
                    }
                }
            }
            dMlp = Math.max(dMlp, o.dMlp);
            return this;
        }

        /** Mean CETT at each grid point of layer l (NaN when no token has a non-zero output). */
        public double[] cett(int l) {
            double[] c = new double[cettSum[l].length];
            for (int g = 0; g < c.length; g++) {
                c[g] = live[l] == 0 ? Double.NaN : cettSum[l][g] / live[l];
            }
            return c;
        }

        /** Share of (token, neuron) pairs with n_i &gt; grid[g] in layer l. */
        public double activationRatio(int l, int g) {
            return above[l][g] / ((double) tokens * dMlp);
        }

        /** The median |h| of layer l's residual stream, to the histogram's 2.3% resolution (the geometric bin centre). */
        public double residMedian(int l) {
            long total = 0;
            for (long c : absHist[l]) {
                total += c;
            }
            long seen = 0;
            for (int b = 0; b < HIST_BINS; b++) {
                seen += absHist[l][b];
                if (2 * seen >= total) {
                    return Math.pow(10, HIST_LO + (b + 0.5) / HIST_PER_DECADE);
                }
            }
            return Double.NaN;
        }
    }

    /** Runs the pass over {@code sequences} in batches of {@code batchSize}. */
    public static Sums run(LanguageModel model, List<long[]> sequences, int batchSize, double eps, Request req) {
        int layers = model.config().numLayers(), dMlp = model.config().dMlp();
        Sums s = new Sums();
        s.dMlp = dMlp;
        s.nonzero = new long[layers];
        s.neuronActive = new long[layers][dMlp];
        s.top3 = new float[layers][0];
        s.absHist = new long[layers][HIST_BINS];
        s.live = new long[layers];
        if (req.grids() != null) {
            s.cettSum = new double[layers][];
            s.above = new long[layers][];
            for (int l = 0; l < layers; l++) {
                s.cettSum[l] = new double[req.grids()[l].length];
                s.above[l] = new long[req.grids()[l].length];
            }
        }
        for (int from = 0; from < sequences.size(); from += batchSize) {
            try (NDManager m = model.manager().newSubManager()) {
                TokenBatch b = TokenBatch.of(m, sequences.subList(from, Math.min(sequences.size(), from + batchSize)), 0);
                s.tokens += b.realTokens();
                s.lossPositions += NextTokenLoss.positions(b);
                if (req.stats() || req.grids() != null) {
                    batchStats(model, b, eps, req, s);
                }
                if (req.thresholds() != null) {
                    s.nllSparse += NextTokenLoss.summedNll(NextTokenLoss.logProbs(model.forward(b, sparsifying(model, req.thresholds()))), b);
                }
            }
        }
        return s;
    }

    private static void batchStats(LanguageModel model, TokenBatch b, double eps, Request req, Sums s) {
        Hooks h = Hooks.none();
        int layers = model.config().numLayers();
        for (int l = 0; l < layers; l++) {
            h.capture(HookPoint.of(l, HookKind.MLP_POST));
            if (req.stats()) {
                h.capture(HookPoint.of(l, HookKind.RESID_POST));   // massive activations: statistics passes only
            }
        }
        NDArray logits = model.forward(b, h);
        NDArray real = b.mask().flatten().gt(0);
        if (req.stats()) {
            s.nllDense += NextTokenLoss.summedNll(NextTokenLoss.logProbs(logits), b);
        }
        for (int l = 0; l < layers; l++) {
            try (NDScope scope = new NDScope()) {
                NDArray x = rows(h.captured(HookPoint.of(l, HookKind.MLP_POST)), real);      // [n, d_mlp]
                NDArray w = model.mlpDown(l);
                NDArray full = x.matMul(w.transpose()).square().sum(new int[]{1}).sqrt();   // ‖W_down x‖ per token
                NDArray live = full.gt(0);
                if (req.stats()) {
                    NDArray active = x.abs().gt(eps).toType(DataType.INT64, false);
                    s.nonzero[l] += (long) Tensors.scalar(active.sum());
                    long[] perNeuron = active.sum(new int[]{0}).toLongArray();
                    for (int i = 0; i < perNeuron.length; i++) {
                        s.neuronActive[l][i] += perNeuron[i];
                    }
                    residStats(rows(h.captured(HookPoint.of(l, HookKind.RESID_POST)), real), s, l);
                }
                s.live[l] += (long) Tensors.scalar(live.toType(DataType.INT64, false).sum());
                if (req.grids() != null) {
                    NDArray norms = Cett.neuronNorms(x, w);
                    NDArray safeFull = full.add(full.eq(0).toType(full.getDataType(), false));
                    double[] grid = req.grids()[l];
                    for (int g = 0; g < grid.length; g++) {
                        try (NDScope inner = new NDScope()) {
                            NDArray below = norms.lte(grid[g]);
                            NDArray part = x.mul(below).matMul(w.transpose()).square().sum(new int[]{1}).sqrt();
                            s.cettSum[l][g] += Tensors.scalar(part.div(safeFull).mul(live).toType(DataType.FLOAT64, false).sum());
                            s.above[l][g] += (long) Tensors.scalar(below.logicalNot().toType(DataType.INT64, false).sum());
                        }
                    }
                }
            }
        }
    }

    /** Top-3 |h| and the log10 histogram of |h| for one layer's real-token residual rows. */
    private static void residStats(NDArray resid, Sums s, int l) {
        float[] sorted = resid.abs().flatten().sort().toFloatArray();
        float[] top = new float[Math.min(3, sorted.length)];
        for (int i = 0; i < top.length; i++) {
            top[i] = sorted[sorted.length - 1 - i];
        }
        s.top3[l] = top3Of(s.top3[l], top);
        int from = 0;
        for (int b = 0; b < HIST_BINS; b++) {
            float edge = (float) Math.pow(10, HIST_LO + (b + 1.0) / HIST_PER_DECADE);
            int to = b == HIST_BINS - 1 ? sorted.length : upperBound(sorted, edge);
            s.absHist[l][b] += to - from;
            from = to;
        }
    }

    /** Zeroes x_i where n_i ≤ t_l in every layer's mlp.hook_post. */
    static Hooks sparsifying(LanguageModel model, double[] thresholds) {
        Hooks h = Hooks.none();
        for (int l = 0; l < thresholds.length; l++) {
            NDArray w = model.mlpDown(l);
            double t = thresholds[l];
            h.replace(HookPoint.of(l, HookKind.MLP_POST), (x, p) -> {
                NDArray flat = x.reshape(-1, x.getShape().get(2));
                return flat.mul(Cett.neuronNorms(flat, w).gt(t)).reshape(x.getShape());
            });
        }
        return h;
    }

    /** Real-token rows of {@code [B, T, w]} as {@code [n_real, w]}. */
    static NDArray rows(NDArray a, NDArray real) {
        return a.reshape(-1, a.getShape().get(2)).get(real);
    }

    private static int upperBound(float[] sorted, float v) {
        int lo = 0, hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] <= v) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private static float[] top3Of(float[] a, float[] b) {
        float[] all = new float[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        Arrays.sort(all);
        float[] out = new float[Math.min(3, all.length)];
        for (int i = 0; i < out.length; i++) {
            out[i] = all[all.length - 1 - i];
        }
        return out;
    }

    private static long[] add(long[] a, long[] b) {
        if (b == null) {
            return a;
        }
        if (a == null) {
            return b.clone();
        }
        for (int i = 0; i < a.length; i++) {
            a[i] += b[i];
        }
        return a;
    }

    private static long[][] add(long[][] a, long[][] b) {
        if (b == null) {
            return a;
        }
        if (a == null) {
            return b;
        }
        for (int i = 0; i < a.length; i++) {
            add(a[i], b[i]);
        }
        return a;
    }
}
