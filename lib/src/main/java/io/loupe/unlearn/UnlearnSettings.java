package io.loupe.unlearn;

/**
 * How an unlearning objective is set up (the optimizer, steps and learning rate are the trainer's {@code TrainConfig}).
 *
 * @param method      the objective
 * @param alpha       weight of the retain term (GradDiff, KL, NPO+RT, RMU)
 * @param beta        NPO's inverse temperature β
 * @param rmuLayer    RMU's layer ℓ: {@code blocks.ℓ.hook_resid_post} is steered; the MLPs of layers ℓ−2..ℓ are trained
 * @param rmuSteering RMU's c, the length of the control vector
 * @param batchSize   forget (and retain) sequences per step
 * @param seed        seed of the batch order and of RMU's random direction
 */
public record UnlearnSettings(Method method, double alpha, double beta, int rmuLayer, double rmuSteering, int batchSize, long seed)
        implements java.io.Serializable {
    public UnlearnSettings {
        if (!(alpha >= 0) || !(beta > 0) || batchSize < 1 || rmuLayer < 0 || !(rmuSteering > 0)) {
            throw new IllegalArgumentException("unlearning needs alpha >= 0, beta > 0, batch size >= 1, an RMU layer >= 0 and steering > 0; got "
                    + this);
        }
    }
}
