package io.loupe.collect;

/**
 * One stored row: one token position of one example at one hook point.
 *
 * @param exampleId         the example's id
 * @param position          0-based index in the tokenised (or packed) sequence
 * @param tokenId           the token at this position
 * @param hook              hook-point name, e.g. {@code blocks.3.hook_resid_post}
 * @param layer             the hook's block
 * @param values            the activation, {@code width} little-endian numbers of the run's {@link ValueDtype}
 * @param nextTokenLogprob  log p(next token) at this position (nats); NaN at the last position
 * @param entropy           entropy of the next-token distribution (nats)
 * @param topkIds           the top-k next-token ids, or null when top-k is off
 * @param topkLogits        their logits, or null
 */
public record ActivationRow(String exampleId, int position, int tokenId, String hook, int layer, byte[] values,
                            float nextTokenLogprob, float entropy, int[] topkIds, float[] topkLogits) {
}
