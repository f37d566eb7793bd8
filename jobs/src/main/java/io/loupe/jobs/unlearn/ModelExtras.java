package io.loupe.jobs.unlearn;

import io.loupe.unlearn.Relearning;
import io.loupe.unlearn.metrics.ConceptVectors;

/**
 * What one model's second-pass task measures: parameter traces against the target, relearning, and (with a
 * dictionary) its latents' firing frequencies on the forget and retain tokens.
 *
 * @param forgetFiring  per latent, the share of forget tokens it fires on (null without a dictionary)
 * @param retainFiring  the same on retain tokens
 */
public record ModelExtras(int model, ConceptVectors.Summary concepts, Relearning.Result relearning, double targetForgetNll, double[] forgetFiring,
                          double[] retainFiring) implements java.io.Serializable {
}
