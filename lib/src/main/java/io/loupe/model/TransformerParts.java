package io.loupe.model;

import java.util.List;

/**
 * The parts a decoder-only transformer is assembled from; every supported family is a choice of them (see
 * {@link Transformer} for the forward pass they drive, and the families in {@code io.loupe.model.family}).
 *
 * @param norm             the normalisation of every norm in the model
 * @param normEps          its ε
 * @param learnedPositions a learned position embedding is added to the token embedding (GPT-2)
 * @param rotaryDims       rotary embedding on the first this many dimensions of each head (rotate-half layout; 0: none;
 *                         d_head: full; NeoX's {@code rotary_pct} gives a part)
 * @param rotaryBase       the rotary base θ
 * @param maxPositions     the longest sequence the model takes (learned positions), 0 for no limit
 * @param gatedMlp         {@code act(h W_gate) ⊙ (h W_up)} (Llama, Gemma) instead of {@code act(h W_in + b)} (GPT-2, NeoX)
 * @param act              the MLP activation
 * @param qkvBias          q, k, v projections have a bias
 * @param outBias          the attention output projection has a bias
 * @param mlpBias          the MLP projections have biases
 * @param parallelResidual attention and MLP both read {@code hook_resid_pre} and are added together (GPT-NeoX/Pythia); there
 *                         is then no {@code hook_resid_mid}
 * @param postNorms        norms on the attention and MLP outputs before they enter the residual stream (Gemma-2)
 * @param attnScale        scores are {@code q·k · attnScale}
 * @param attnScaleByLayer scores are further divided by {@code layer + 1} (GPT-2's {@code scale_attn_by_inverse_layer_idx})
 * @param attnSoftcap      scores become {@code cap · tanh(s / cap)} before the mask (Gemma-2; 0: none)
 * @param finalSoftcap     logits become {@code cap · tanh(z / cap)} (Gemma-2; 0: none)
 * @param slidingWindow    keys more than this many positions back are masked on the sliding layers (0: none)
 * @param slidingLayers    the layers with a sliding window
 * @param embedScale       the token embedding is multiplied by this (Gemma: sqrt(d_model) rounded to float32; else 1)
 */
public record TransformerParts(NormKind norm, double normEps, boolean learnedPositions, int rotaryDims, double rotaryBase, int maxPositions,
                               boolean gatedMlp, MlpActivation act, boolean qkvBias, boolean outBias, boolean mlpBias, boolean parallelResidual,
                               boolean postNorms, double attnScale, boolean attnScaleByLayer, double attnSoftcap, double finalSoftcap,
                               int slidingWindow, List<Integer> slidingLayers, float embedScale) implements java.io.Serializable {
    public TransformerParts {
        if (!(normEps > 0) || rotaryDims < 0 || rotaryDims % 2 != 0 || !(rotaryBase > 0) || maxPositions < 0 || !(attnScale > 0)
                || attnSoftcap < 0 || finalSoftcap < 0 || slidingWindow < 0) {
            throw new IllegalArgumentException("invalid transformer parts: " + "norm eps, rotary base and attention scale must be > 0, rotary "
                    + "dimensions even and >= 0, caps, windows and max positions >= 0");
        }
        slidingLayers = List.copyOf(slidingLayers);
    }

    /** Llama's parts: RMSNorm, full rotary, gated MLP, sequential residual, 1/sqrt(d_head). */
    public static TransformerParts llama(int dHead, double eps, double theta, MlpActivation act, boolean qkvBias) {
        return llama(dHead, eps, theta, act, qkvBias, false);
    }

    /** Llama's parts with MLP biases ({@code mlp_bias}). */
    public static TransformerParts llama(int dHead, double eps, double theta, MlpActivation act, boolean qkvBias, boolean mlpBias) {
        return new TransformerParts(NormKind.RMS, eps, false, dHead, theta, 0, true, act, qkvBias, false, mlpBias, false, false,
                1 / Math.sqrt(dHead), false, 0, 0, 0, List.of(), 1f);
    }

    public TransformerParts withAct(MlpActivation a) {
        return new TransformerParts(norm, normEps, learnedPositions, rotaryDims, rotaryBase, maxPositions, gatedMlp, a, qkvBias, outBias, mlpBias,
                parallelResidual, postNorms, attnScale, attnScaleByLayer, attnSoftcap, finalSoftcap, slidingWindow, slidingLayers, embedScale);
    }

    /** Whether layer {@code l} attends through a sliding window. */
    public boolean sliding(int l) {
        return slidingWindow > 0 && slidingLayers.contains(l);
    }
}
