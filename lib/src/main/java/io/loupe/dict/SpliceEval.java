package io.loupe.dict;

import io.loupe.tensor.Tensors;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import io.loupe.hooks.HookPoint;
import io.loupe.hooks.Hooks;
import io.loupe.model.LanguageModel;
import io.loupe.model.NextTokenLoss;
import io.loupe.model.TokenBatch;

import java.util.List;

/**
 * How much of the model's behaviour a dictionary keeps when its reconstruction replaces the hook's
 * activation in the forward pass (through the hook API). All losses are mean next-token cross-entropy
 * (nats) over real positions that have a real next token.
 * <pre>
 * CE recovered = (CE_zero − CE_recon) / (CE_zero − CE_clean)   1 = as good as the model, 0 = as bad as zero-ablating the hook
 * KL           = mean over positions of KL(p_clean ‖ p_recon)
 * </pre>
 */
public final class SpliceEval {
    /** The four losses and the two derived figures. */
    public record Result(double ceClean, double ceRecon, double ceZero, double kl, long tokens) {
        public double ceRecovered() {
            return (ceZero - ceRecon) / (ceZero - ceClean);
        }
    }

    private SpliceEval() {
    }

    /**
     * @param hook   the hook the dictionary reads
     * @param target the hook its reconstruction replaces (and that zero-ablation zeroes): {@code hook} for a sparse
     *               autoencoder, a later hook for a transcoder, whose input is captured at {@code hook} in the same pass
     */
    public static Result evaluate(LanguageModel model, SparseAutoencoder sae, HookPoint hook, HookPoint target, List<long[]> sequences,
                                  int batchSize) {
        double clean = 0, recon = 0, zero = 0, kl = 0;
        long n = 0;
        for (int from = 0; from < sequences.size(); from += batchSize) {
            try (NDManager m = model.manager().newSubManager()) {
                TokenBatch b = TokenBatch.of(m, sequences.subList(from, Math.min(sequences.size(), from + batchSize)), 0);
                NDArray lpClean = NextTokenLoss.logProbs(model.forward(b, Hooks.none()));
                Hooks splice = Hooks.none();
                if (!target.equals(hook)) {
                    splice.capture(hook);
                }
                splice.replace(target, (x, p) -> {
                    NDArray in = target.equals(hook) ? x : splice.captured(hook);
                    long[] s = in.getShape().getShape();
                    return sae.decode(sae.encode(in.reshape(-1, s[s.length - 1]))).reshape(x.getShape());
                });
                NDArray lpRecon = NextTokenLoss.logProbs(model.forward(b, splice));
                NDArray lpZero = NextTokenLoss.logProbs(model.forward(b, Hooks.none().replace(target, (x, p) -> x.zerosLike())));
                NDArray valid = NextTokenLoss.validNext(b);
                clean += NextTokenLoss.summedNll(lpClean, b);
                recon += NextTokenLoss.summedNll(lpRecon, b);
                zero += NextTokenLoss.summedNll(lpZero, b);
                kl += Tensors.scalar(EndToEndLosses.kl(lpClean, lpRecon, valid)) * NextTokenLoss.positions(b);
                n += NextTokenLoss.positions(b);
            }
        }
        return new Result(clean / n, recon / n, zero / n, kl / n, n);
    }
}
