package io.loupe.dict;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.loupe.hooks.HookKind;
import io.loupe.hooks.HookPoint;
import io.loupe.hooks.Hooks;
import io.loupe.model.LanguageModel;
import io.loupe.model.NextTokenLoss;
import io.loupe.model.Runtime;
import io.loupe.model.TokenBatch;
import io.loupe.optim.AdamW;
import io.loupe.tensor.Tensors;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Trains a dictionary end to end (Braun et al. 2024): its reconstruction replaces the hook's activation in the forward
 * pass (a {@link Hooks#replace} hook, the mechanism every intervention uses), and the loss is what the model's output
 * loses, not how well the activation is reconstructed:
 * <pre>
 *   loss = κ · KL(p_clean ‖ p_spliced) + sparsity [+ β · DS]          (see {@link EndToEndLosses})
 *   sparsity: ReLU λ₁ · mean_tokens Σ_i f_i ‖W_dec[i]‖ ; TopK none (k fixes L0)
 * </pre>
 * The model's weights are frozen; gradients reach the dictionary through every later layer. Each step runs a clean
 * pass without autograd (the target distribution and, for e2e+ds, the later layers' activations) and a spliced pass
 * with it. Inputs are scaled by s = √d / mean‖x‖ as local dictionaries are ({@link ActivationScale}); the factor is
 * folded into the weights at the end. Batches are whole token sequences, drawn in a seeded order.
 */
public final class EndToEndTrainer {
    /**
     * @param downstream  later hooks for e2e+ds (their {@code hook_resid_post}); empty for plain e2e
     * @param klCoeff     κ
     * @param dsCoeff     β
     * @param sequences   token sequences per step
     */
    public record Settings(List<HookPoint> downstream, double klCoeff, double dsCoeff, int sequences) implements java.io.Serializable {
        public Settings {
            downstream = List.copyOf(downstream);
            if (!(klCoeff > 0) || dsCoeff < 0 || sequences < 1) {
                throw new IllegalArgumentException("end-to-end settings need κ > 0, β >= 0 and at least one sequence per step");
            }
        }

        /** "e2e" or "e2e+ds". */
        public String objective() {
            return downstream.isEmpty() ? "e2e" : "e2e+ds";
        }

        /** Every later layer's resid_post, for e2e+ds at {@code hook}. */
        public static List<HookPoint> laterResidPosts(HookPoint hook, int numLayers) {
            List<HookPoint> later = new ArrayList<>();
            for (int l = hook.layer() + (hook.kind() == HookKind.RESID_POST ? 1 : 0); l < numLayers; l++) {
                later.add(HookPoint.of(l, HookKind.RESID_POST));
            }
            return later;
        }
    }

    private EndToEndTrainer() {
    }

    /**
     * @param train     training sequences (token ids); each step takes {@code settings.sequences()} of them
     * @param logEvery  steps between log entries; the log's {@code reconstruction} is κ·KL, its {@code aux} β·DS
     */
    public static SaeTrainer.Result train(SaeConfig cfg, Settings settings, LanguageModel model, HookPoint hook, List<long[]> train,
                                          NDManager manager, int logEvery, Consumer<SaeTrainer.StepLog> progress) {
        if (cfg.transcoder() || (cfg.architecture() != Architecture.RELU && cfg.architecture() != Architecture.TOPK)) {
            throw new IllegalArgumentException("end-to-end training takes a relu (Braun et al.'s) or topk autoencoder, not "
                    + cfg.architecture().saeLensName() + (cfg.transcoder() ? " transcoder" : ""));
        }
        if (train.isEmpty()) {
            throw new IllegalArgumentException("no training sequences");
        }
        hook.validate(model.config().numLayers());
        if (hook.kind() == HookKind.ATTN_Z || hook.kind() == HookKind.ATTN_PATTERN) {
            throw new IllegalArgumentException(hook + ": end-to-end dictionaries read [batch, seq, d] hooks (resid, attn_out, mlp_out, mlp.hook_post)");
        }
        settings.downstream().forEach(p -> p.validate(model.config().numLayers()));
        Random order = new Random(cfg.seed());
        List<long[]> first = draw(train, settings.sequences(), order);
        NDArray sample = cleanRows(model, hook, first, manager);
        ActivationScale scale = ActivationScale.estimate(cfg, sample);
        SparseAutoencoder sae = SparseAutoencoder.init(cfg, manager, Tensors.times(sample, scale.in()));
        List<NDArray> params = sae.parameters();
        params.forEach(p -> p.setRequiresGradient(true));
        NDManager state = manager.newSubManager();
        AdamW adam = SaeTrainer.optimizer(params, state);
        NDArray sinceFired = state.zeros(new Shape(cfg.dSae()), DataType.INT64);
        List<SaeTrainer.StepLog> log = new ArrayList<>();
        long start = System.nanoTime(), tokens = 0;
        for (int step = 0; step < cfg.steps(); step++) {
            List<long[]> seqs = step == 0 ? first : draw(train, settings.sequences(), order);
            try (NDScope scope = new NDScope(); NDManager s = manager.newSubManager()) {
                TokenBatch b = TokenBatch.of(s, seqs, 0);
                NDArray mask = b.mask().toType(DataType.FLOAT32, false);
                NDArray valid = NextTokenLoss.validNext(b);
                Hooks clean = Hooks.none().capture(settings.downstream());
                NDArray lpClean = NextTokenLoss.logProbs(model.forward(b, clean));
                List<NDArray> cleanLater = settings.downstream().stream().map(clean::captured).toList();
                NDArray[] codes = new NDArray[1];
                Hooks splice = Hooks.none().capture(settings.downstream()).replace(hook, (x, p) -> {
                    long d = x.getShape().get(2);
                    NDArray rows = Tensors.times(x.reshape(-1, d), scale.in());
                    codes[0] = sae.activate(sae.preActivations(rows), true);
                    NDScope.unregister(codes[0]);   // the forward's scope frees its temporaries; the loss needs these codes after it
                    return Tensors.over(sae.decode(codes[0]), scale.in()).reshape(x.getShape());
                });
                double[] parts = new double[4];
                NDArray onRows;
                synchronized (Runtime.AUTOGRAD) {
                    try (GradientCollector gc = Runtime.engine().newGradientCollector()) {
                        NDArray kl = Tensors.times(EndToEndLosses.kl(lpClean, NextTokenLoss.logProbs(model.forward(b, splice)), valid), settings.klCoeff());
                        NDArray real = mask.reshape(-1).expandDims(1);                       // [B·T, 1]: padding has no codes
                        NDArray f = codes[0].mul(real);
                        NDArray sparsity = cfg.architecture() == Architecture.RELU
                                ? Tensors.times(SaeLosses.weightedL1(f, sae.wDec).div(real.sum()), cfg.l1() * real.size())
                                : Tensors.constant(kl, 0);
                        NDArray ds = settings.downstream().isEmpty() ? Tensors.constant(kl, 0)
                                : Tensors.times(EndToEndLosses.downstream(cleanLater,
                                settings.downstream().stream().map(splice::captured).toList(), mask), settings.dsCoeff());
                        NDArray total = kl.add(sparsity).add(ds);
                        gc.backward(total);
                        onRows = f.stopGradient().gt(0);
                        if (step % logEvery == 0 || step == cfg.steps() - 1) {
                            parts = new double[]{Tensors.scalar(total), Tensors.scalar(kl), Tensors.scalar(sparsity), Tensors.scalar(ds)};
                        }
                    }
                }
                adam.step(cfg.lrAt(step), 1.0);
                sae.normalizeDecoder();
                long realTokens = (long) Tensors.scalar(mask.sum());
                tokens += realTokens;
                sinceFired.addi(realTokens).muli(onRows.sum(new int[]{0}).gt(0).logicalNot().toType(DataType.INT64, false));
                if (step % logEvery == 0 || step == cfg.steps() - 1) {
                    if (!Double.isFinite(parts[0])) {
                        throw new IllegalStateException("end-to-end training diverged: the loss is " + parts[0] + " at step " + (step + 1)
                                + "; lower the learning rate");
                    }
                    double l0 = Tensors.scalar(onRows.sum()) / realTokens;
                    SaeTrainer.StepLog entry = new SaeTrainer.StepLog(step, parts[0], parts[1], parts[2], parts[3], l0,
                            sinceFired.gte(cfg.deadAfter()).sum().toType(DataType.INT64, false).getLong());
                    log.add(entry);
                    progress.accept(entry);
                }
            }
        }
        params.forEach(p -> p.setRequiresGradient(false));
        state.close();
        sae.foldScale(scale);
        double seconds = (System.nanoTime() - start) / 1e9;
        return new SaeTrainer.Result(sae, log, seconds, 0, tokens, 0, scale);
    }

    /** The clean activations at {@code hook} of real tokens, {@code [n, d]}. */
    static NDArray cleanRows(LanguageModel model, HookPoint hook, List<long[]> sequences, NDManager into) {
        try (NDManager s = model.manager().newSubManager()) {
            TokenBatch b = TokenBatch.of(s, sequences, 0);
            Hooks h = Hooks.none().capture(hook);
            model.forward(b, h);
            NDArray x = h.captured(hook);
            long d = x.getShape().get(2);
            NDArray real = b.mask().reshape(-1).toType(DataType.BOOLEAN, false);
            NDArray rows = x.reshape(-1, d).get(real);
            rows.attach(into);
            return rows;
        }
    }

    private static List<long[]> draw(List<long[]> train, int n, Random order) {
        List<long[]> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(train.get(order.nextInt(train.size())));
        }
        return out;
    }
}
