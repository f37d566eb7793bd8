package io.loupe.unlearn;

import ai.djl.ndarray.NDArray;
import io.loupe.tensor.Tensors;

/**
 * The unlearning objectives, each a pure function of model outputs (to be minimised). Notation: for a batch of
 * forget sequences, {@code s_i = −log π_θ(y_i | x_i)} is sequence i's summed NLL over its target tokens and
 * {@code n_i} their number; {@code NLL_f = Σ s_i / Σ n_i} is the mean NLL per target token (likewise {@code NLL_r} on
 * retain sequences); {@code π_ref} is the frozen model before unlearning (the target).
 */
public final class UnlearningLosses {
    private UnlearningLosses() {
    }

    /**
     * Gradient ascent (Jang et al. 2023, "Knowledge Unlearning for Mitigating Privacy Risks in Language Models"; TOFU's
     * {@code grad_ascent}): {@code L = −NLL_f}.
     *
     * @param forgetNll summed target NLL of the forget batch (a scalar)
     */
    public static NDArray gradientAscent(NDArray forgetNll, long forgetTargets) {
        return Tensors.over(forgetNll, forgetTargets).neg();
    }

    /**
     * Gradient difference (Liu et al. 2022, "Continual Learning and Private Unlearning"; TOFU's {@code grad_diff}):
     * ascent on forget, descent on retain, {@code L = −NLL_f + α · NLL_r}.
     */
    public static NDArray gradientDifference(NDArray forgetNll, long forgetTargets, NDArray retainNll, long retainTargets, double alpha) {
        return gradientAscent(forgetNll, forgetTargets).add(Tensors.times(Tensors.over(retainNll, retainTargets), alpha));
    }

    /**
     * Mean per-token KL divergence from the reference model's next-token distribution to the model's, over target
     * positions (TOFU's {@code KL} method's retain term): {@code Σ_t w_t Σ_v p_ref(v) (log p_ref(v) − log p_θ(v)) / Σ_t w_t}.
     *
     * @param logProbs    the model's log-probabilities {@code [B, T−1, V]} (positions that predict a next token)
     * @param refLogProbs the reference's, same shape, no gradient
     * @param weights     1 at positions whose next token is a target {@code [B, T−1]}
     */
    public static NDArray klToReference(NDArray logProbs, NDArray refLogProbs, NDArray weights) {
        NDArray perToken = refLogProbs.exp().mul(refLogProbs.sub(logProbs)).sum(new int[]{2});
        return perToken.mul(weights).sum().div(weights.sum());
    }

    /** KL-regularised gradient ascent (TOFU's {@code KL}): {@code L = −NLL_f + α · KL(π_ref ‖ π_θ) on retain}. */
    public static NDArray klRegularisedAscent(NDArray forgetNll, long forgetTargets, NDArray retainKl, double alpha) {
        return gradientAscent(forgetNll, forgetTargets).add(Tensors.times(retainKl, alpha));
    }

    /**
     * Negative Preference Optimization (Zhang et al. 2024, "Negative Preference Optimization: From Catastrophic Collapse
     * to Effective Unlearning"), forget sequences as dispreferred answers:
     * <pre>
     *   L = (2/β) · mean_i log(1 + (π_θ(y_i|x_i) / π_ref(y_i|x_i))^β) = −(2/β) · mean_i log σ(−β (log π_θ − log π_ref))
     * </pre>
     * As β → 0 its gradient tends to that of {@code mean_i log π_θ(y_i|x_i)}: gradient ascent on sequence likelihoods.
     *
     * @param seqLogp    {@code log π_θ(y_i|x_i) = −s_i} per sequence {@code [B]}
     * @param refSeqLogp the same under the reference {@code [B]}, no gradient
     */
    public static NDArray npo(NDArray seqLogp, NDArray refSeqLogp, double beta) {
        if (!(beta > 0)) {
            throw new IllegalArgumentException("NPO needs beta > 0, got " + beta);
        }
        // log(1 + e^z) computed stably as softplus(z) = max(z, 0) + log(1 + e^−|z|), z = β (log π_θ − log π_ref)
        NDArray z = Tensors.times(seqLogp.sub(refSeqLogp), beta);
        NDArray softplus = z.maximum(Tensors.constant(z, 0)).add(z.abs().neg().exp().add(1).log());
        return Tensors.times(softplus.mean(), 2 / beta);
    }

    /** NPO with a retain term (Zhang et al. 2024's NPO+RT): {@code L = L_NPO + α · NLL_r}. */
    public static NDArray npoWithRetain(NDArray npo, NDArray retainNll, long retainTargets, double alpha) {
        return npo.add(Tensors.times(Tensors.over(retainNll, retainTargets), alpha));
    }

    /**
     * Representation Misdirection for Unlearning (Li et al. 2024, "The WMDP Benchmark", RMU): at one layer, push the
     * forget tokens' activations toward a fixed random direction scaled by c, keep the retain tokens' at the reference's,
     * each as a mean squared error over real tokens and dimensions:
     * <pre>
     *   L = mean_{forget tokens, d} (h_θ − c·u)² + α · mean_{retain tokens, d} (h_θ − h_ref)²
     * </pre>
     *
     * @param hForget     the model's activations on the forget batch {@code [B, T, D]}
     * @param forgetMask  1 at real forget tokens {@code [B, T]}
     * @param control     {@code c·u} {@code [D]}
     * @param hRetain     the model's activations on the retain batch {@code [B', T', D]}
     * @param hRetainRef  the reference's on the same, no gradient
     * @param retainMask  1 at real retain tokens {@code [B', T']}
     */
    public static NDArray rmu(NDArray hForget, NDArray forgetMask, NDArray control, NDArray hRetain, NDArray hRetainRef, NDArray retainMask,
                              double alpha) {
        return maskedMse(hForget.sub(control), forgetMask).add(Tensors.times(maskedMse(hRetain.sub(hRetainRef), retainMask), alpha));
    }

    /** Mean of squares over real tokens and the last axis: {@code Σ_{t real} Σ_d x² / (tokens · D)}. */
    static NDArray maskedMse(NDArray diff, NDArray mask) {
        long d = diff.getShape().get(diff.getShape().dimension() - 1);
        NDArray m = mask.toType(diff.getDataType(), false);
        return diff.square().sum(new int[]{2}).mul(m).sum().div(Tensors.times(m.sum(), d));
    }
}
