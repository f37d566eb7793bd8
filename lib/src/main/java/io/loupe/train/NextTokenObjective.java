package io.loupe.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import io.loupe.hooks.HookKind;
import io.loupe.hooks.HookPoint;
import io.loupe.hooks.Hooks;
import io.loupe.model.LanguageModel;
import io.loupe.model.TokenBatch;
import io.loupe.tensor.Tensors;

import java.util.ArrayList;
import java.util.List;

/**
 * Language modelling: next-token cross-entropy over each sequence's target tokens, plus ProSparse's penalty when
 * its factor is non-zero.
 *
 * <pre>
 *   loss(step) = Σ_{micro-batches} Σ_{target tokens} −log p(x_t | x_&lt;t) / (target tokens in the step)
 *              + λ(step) · Σ_l Σ_{real tokens, neurons} |mlp.hook_post_l| / (real tokens in the step · d_mlp)
 * </pre>
 *
 * Each micro-batch is backpropagated on its share of that sum, so accumulation equals one large batch. The
 * evaluation is the mean NLL per target token over the held-out sequences.
 */
public final class NextTokenObjective implements Objective {
    private final TrainData data;
    private final TrainConfig cfg;

    public NextTokenObjective(TrainData data, TrainConfig cfg) {
        this.data = data;
        this.cfg = cfg;
    }

    @Override
    public double accumulate(LanguageModel model, int step, double lambda, GradientCollector gc) {
        List<List<TrainSequence>> micro = new ArrayList<>();
        long targets = 0, realTokens = 0;
        for (int j = 0; j < cfg.gradAccum(); j++) {
            List<TrainSequence> b = data.microBatch(cfg.seed(), step, j, cfg.gradAccum(), cfg.batchSize());
            micro.add(b);
            for (TrainSequence s : b) {
                targets += s.targets();
                realTokens += s.ids().length;
            }
        }
        List<HookPoint> mlp = new ArrayList<>();
        for (int l = 0; lambda > 0 && l < model.config().numLayers(); l++) {
            mlp.add(HookPoint.of(l, HookKind.MLP_POST));
        }
        double nllSum = 0;
        for (List<TrainSequence> b : micro) {
            try (NDScope scope = new NDScope(); NDManager m = model.manager().newSubManager()) {
                TokenBatch batch = LmLoss.batch(m, b);
                Hooks hooks = Hooks.none().capture(mlp);
                NDArray nll = LmLoss.summedNll(model, batch, b, hooks);
                NDArray loss = Tensors.over(nll, targets);
                if (lambda > 0) {
                    NDArray real = batch.mask().toType(nll.getDataType(), false).expandDims(2);
                    for (HookPoint p : mlp) {
                        NDArray l1 = hooks.captured(p).abs().mul(real).sum();
                        loss = loss.add(Tensors.times(l1, lambda / ((double) realTokens * model.config().dMlp())));
                    }
                }
                gc.backward(loss);
                nllSum += Tensors.scalar(nll);
            }
        }
        return nllSum / targets;
    }

    @Override
    public long[] tokensPerStep(int steps) {
        return data.tokensPerStep(cfg.seed(), steps, cfg.gradAccum(), cfg.batchSize());
    }

    @Override
    public boolean evaluates() {
        return !data.heldOut().isEmpty();
    }

    @Override
    public double evaluate(LanguageModel model) {
        return meanNll(model, data.heldOut(), cfg.evalSequences(), cfg.batchSize());
    }

    @Override
    public String fingerprint() {
        return "next-token|" + data.fingerprint();
    }

    /** Mean NLL per target token over {@code sequences} (the first {@code limit}; 0 = all), no gradients. */
    public static double meanNll(LanguageModel model, List<TrainSequence> sequences, int limit, int batchSize) {
        List<TrainSequence> use = limit > 0 && limit < sequences.size() ? sequences.subList(0, limit) : sequences;
        double sum = 0;
        long n = 0;
        for (int from = 0; from < use.size(); from += batchSize) {
            List<TrainSequence> b = use.subList(from, Math.min(use.size(), from + batchSize));
            try (NDScope scope = new NDScope(); NDManager m = model.manager().newSubManager()) {
                sum += Tensors.scalar(LmLoss.summedNll(model, LmLoss.batch(m, b), b, Hooks.none()));
            }
            for (TrainSequence s : b) {
                n += s.targets();
            }
        }
        return sum / n;
    }
}
