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

    public static Result evaluate(LanguageModel model, SparseAutoencoder sae, HookPoint hook, List<long[]> sequences, int batchSize) {
        double clean = 0, recon = 0, zero = 0, kl = 0;
        long n = 0;
        for (int from = 0; from < sequences.size(); from += batchSize) {
            try (NDManager m = model.manager().newSubManager()) {
                TokenBatch b = TokenBatch.of(m, sequences.subList(from, Math.min(sequences.size(), from + batchSize)), 0);
                NDArray lpClean = NextTokenLoss.logProbs(model.forward(b, Hooks.none()));
                NDArray lpRecon = NextTokenLoss.logProbs(model.forward(b, Hooks.none().replace(hook, (x, p) -> {
                    long[] s = x.getShape().getShape();
                    NDArray flat = x.reshape(-1, s[s.length - 1]);
                    return sae.decode(sae.encode(flat)).reshape(x.getShape());
                })));
                NDArray lpZero = NextTokenLoss.logProbs(model.forward(b, Hooks.none().replace(hook, (x, p) -> x.zerosLike())));
                NDArray valid = NextTokenLoss.validNext(b);
                clean += NextTokenLoss.summedNll(lpClean, b);
                recon += NextTokenLoss.summedNll(lpRecon, b);
                zero += NextTokenLoss.summedNll(lpZero, b);
                NDArray klTok = lpClean.exp().mul(lpClean.sub(lpRecon)).sum(new int[]{2});                // [B, T-1]
                kl += Tensors.scalar(klTok.mul(valid).sum());
                n += NextTokenLoss.positions(b);
            }
        }
        return new Result(clean / n, recon / n, zero / n, kl / n, n);
    }
}
