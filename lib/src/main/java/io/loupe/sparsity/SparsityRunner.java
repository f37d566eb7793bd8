package io.loupe.sparsity;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.loupe.hooks.HookKind;
import io.loupe.hooks.HookPoint;
import io.loupe.hooks.Hooks;
import io.loupe.model.LanguageModel;
import io.loupe.model.NextTokenLoss;
import io.loupe.model.TokenBatch;

import java.util.ArrayList;
import java.util.List;

/**
 * The exact in-memory reference: activation sparsity of one model over a prompt set held in memory, per layer and overall: nonzero fraction, CETT
 * thresholds and activation ratios at a CETT target, dead neurons, massive activations; and PPL-p%
 * sparsity, the CETT target whose sparsification raises perplexity by exactly p. Activations are
 * captured over real tokens only; the sparsified loss zeroes {@code x_i} where {@code n_i ≤ t_l} through
 * a replace hook on every layer's {@code mlp.hook_post}. Thresholds come from {@link Cett#threshold}'s binary search
 * over every n_i. The jobs use {@link SparsitySearch}, which streams and shards; tests check it against this.
 */
public final class SparsityRunner {
    /** One layer's figures. */
    public record Layer(int layer, double nonzeroFraction, double threshold, double cett, double activationRatio, int deadNeurons,
                        float[] massiveTop3, double massiveMedian, boolean massiveFlagged) {
    }

    /** The whole report; {@code pplP} is null when the target CETT was given rather than searched. */
    public record Report(List<Layer> layers, double cettTarget, double overallActivationRatio, Double pplP, double lossDense,
                         double lossSparse, long tokens) {
    }

    private final LanguageModel model;
    private final List<long[]> sequences;
    private final int batchSize;
    private final double eps;
    private final NDManager manager;
    private final List<NDArray> mlp = new ArrayList<>();     // per layer [n_real, d_mlp]
    private final List<NDArray> resid = new ArrayList<>();   // per layer [n_real, d_model]
    private final List<Layer> targetFree = new ArrayList<>(); // per layer: the figures that do not depend on the CETT target
    private final double lossDense;

    public SparsityRunner(LanguageModel model, List<long[]> sequences, int batchSize, double eps, NDManager manager) {
        this.model = model;
        this.sequences = sequences;
        this.batchSize = batchSize;
        this.eps = eps;
        this.manager = manager;
        capture();
        for (int l = 0; l < mlp.size(); l++) {
            NDArray x = mlp.get(l);
            ActivationSparsity.Massive ma = ActivationSparsity.massive(resid.get(l));
            targetFree.add(new Layer(l, ActivationSparsity.nonzeroFraction(x, eps), Double.NaN, Double.NaN, Double.NaN,
                    ActivationSparsity.deadNeurons(x, eps, 0.001), ma.top3(), ma.median(), ma.flagged()));
        }
        lossDense = NextTokenLoss.mean(model, sequences, Hooks::none, batchSize);
    }

    private void capture() {
        int layers = model.config().numLayers();
        List<NDList> mlpParts = new ArrayList<>(), residParts = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            mlpParts.add(new NDList());
            residParts.add(new NDList());
        }
        for (int from = 0; from < sequences.size(); from += batchSize) {
            List<long[]> chunk = sequences.subList(from, Math.min(sequences.size(), from + batchSize));
            TokenBatch b = TokenBatch.of(manager, chunk, 0);
            Hooks h = Hooks.none();
            for (int l = 0; l < layers; l++) {
                h.capture(HookPoint.of(l, HookKind.MLP_POST), HookPoint.of(l, HookKind.RESID_POST));
            }
            model.forward(b, h);
            NDArray real = b.mask().flatten().gt(0);
            for (int l = 0; l < layers; l++) {
                mlpParts.get(l).add(SparsityPass.rows(h.captured(HookPoint.of(l, HookKind.MLP_POST)), real));
                residParts.get(l).add(SparsityPass.rows(h.captured(HookPoint.of(l, HookKind.RESID_POST)), real));
            }
        }
        for (int l = 0; l < layers; l++) {
            mlp.add(NDArrays.concat(mlpParts.get(l), 0));
            resid.add(NDArrays.concat(residParts.get(l), 0));
        }
    }

    /** Every figure at a given CETT target. */
    public Report atCett(double target) {
        List<Layer> layers = new ArrayList<>();
        double active = 0, total = 0;
        double[] thresholds = new double[mlp.size()];
        for (int l = 0; l < mlp.size(); l++) {
            NDArray x = mlp.get(l), w = model.mlpDown(l);
            Cett.Threshold t = Cett.threshold(x, w, target);
            thresholds[l] = t.threshold();
            Layer f = targetFree.get(l);
            layers.add(new Layer(l, f.nonzeroFraction(), t.threshold(), t.cett(), t.activationRatio(), f.deadNeurons(), f.massiveTop3(),
                    f.massiveMedian(), f.massiveFlagged()));
            double size = x.size();
            active += t.activationRatio() * size;
            total += size;
        }
        double sparse = NextTokenLoss.mean(model, sequences, () -> SparsityPass.sparsifying(model, thresholds), batchSize);
        return new Report(layers, target, active / total, null, lossDense, sparse, mlp.get(0).getShape().get(0));
    }

    /**
     * PPL-p% sparsity: binary search over one CETT target shared by all layers for the one where
     * {@code exp(loss_sparse − loss_dense) = 1 + p} (the loss ratio grows with the target), to {@code tolerance}
     * in the target.
     */
    public Report pplP(double p, double tolerance) {
        double lo = 0, hi = 1;
        Report best = atCett(0);
        while (hi - lo > tolerance) {
            double mid = (lo + hi) / 2;
            Report r = atCett(mid);
            if (Math.exp(r.lossSparse() - r.lossDense()) <= 1 + p) {
                lo = mid;
                best = r;
            } else {
                hi = mid;
            }
        }
        return new Report(best.layers(), best.cettTarget(), best.overallActivationRatio(), p, best.lossDense(), best.lossSparse(),
                best.tokens());
    }
}
