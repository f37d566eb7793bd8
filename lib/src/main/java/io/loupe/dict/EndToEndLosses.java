package io.loupe.dict;

import ai.djl.ndarray.NDArray;
import io.loupe.tensor.Tensors;

import java.util.List;

/**
 * The losses of end-to-end dictionary learning (Braun et al. 2024, "Identifying Functionally Important Features with
 * End-to-End Sparse Dictionary Learning"), as pure functions. With {@code p} the model's next-token distribution on the
 * clean pass and {@code p̂} on the pass with the dictionary's reconstruction spliced in at its hook:
 * <pre>
 *   KL   = (1/N) Σ_positions Σ_v p_v (log p_v − log p̂_v)        N = positions with a real next token
 *   DS   = (1/|L|) Σ_{l∈L} Σ‖a_l − â_l‖² / Σ‖a_l‖²              a_l, â_l: resid_post of a later layer l, clean and spliced
 * </pre>
 * {@code e2e} trains on {@code KL + sparsity}; {@code e2e+ds} adds {@code β · DS}. Braun et al. weight each layer's
 * unnormalised MSE by a tuned coefficient; DS here divides each layer's error by that layer's clean energy instead,
 * so one β serves layers whose residual norms differ by orders of magnitude.
 */
public final class EndToEndLosses {
    private EndToEndLosses() {
    }

    /**
     * @param lpClean   clean log-probabilities {@code [B, T−1, V]}
     * @param lpSpliced spliced log-probabilities {@code [B, T−1, V]}
     * @param validNext 1 where the next token is real {@code [B, T−1]}
     * @return the mean KL(p ‖ p̂) over valid positions, a scalar
     */
    public static NDArray kl(NDArray lpClean, NDArray lpSpliced, NDArray validNext) {
        NDArray perPosition = lpClean.exp().mul(lpClean.sub(lpSpliced)).sum(new int[]{2});   // [B, T−1]
        return perPosition.mul(validNext).sum().div(validNext.sum());
    }

    /**
     * @param clean   each later layer's clean activation {@code [B, T, d]}, without gradient
     * @param spliced the same layers on the spliced pass
     * @param mask    1 at real tokens {@code [B, T]}
     * @return the mean over layers of each layer's relative squared error, a scalar
     */
    public static NDArray downstream(List<NDArray> clean, List<NDArray> spliced, NDArray mask) {
        if (clean.size() != spliced.size() || clean.isEmpty()) {
            throw new IllegalArgumentException("downstream: " + clean.size() + " clean and " + spliced.size() + " spliced layers");
        }
        NDArray m = mask.expandDims(2);
        NDArray total = null;
        for (int l = 0; l < clean.size(); l++) {
            NDArray err = spliced.get(l).sub(clean.get(l)).square().mul(m).sum();
            NDArray energy = clean.get(l).square().mul(m).sum();
            NDArray rel = err.div(energy);
            total = total == null ? rel : total.add(rel);
        }
        return Tensors.over(total, clean.size());   // an owned constant: autograd keeps it for backward
    }
}
