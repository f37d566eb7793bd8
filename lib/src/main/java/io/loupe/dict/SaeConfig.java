package io.loupe.dict;

/**
 * One dictionary to train; validated at construction.
 *
 * @param architecture  encoder and sparsity mechanism
 * @param dIn           activation width (d_model, d_mlp, …)
 * @param dSae          dictionary width (latents)
 * @param k             active latents per token (TopK, BatchTopK: on average)
 * @param l1            L1 coefficient (ReLU), on f_i·‖W_dec[i]‖ summed over latents, averaged over tokens
 * @param l0            L0 coefficient (JumpReLU)
 * @param bandwidth     JumpReLU straight-through kernel width ε; 0.001 as in the paper for unit-scale inputs
 * @param initThreshold JumpReLU initial θ
 * @param auxK          dead latents used by the AuxK loss (TopK); Gao et al. use d_in / 2
 * @param auxCoeff      AuxK weight; 1/32 as in Gao et al.
 * @param deadAfter     tokens without firing after which a latent counts as dead (AuxK, metrics)
 * @param lr            Adam learning rate
 * @param warmupSteps   linear learning-rate warm-up from 0
 * @param decaySteps    linear decay to 0 over the last steps
 * @param steps         optimizer steps
 * @param batchSize     tokens per step
 * @param seed          seeds initialisation and data order
 * @param bDecInit      {@code mean}, {@code median} (geometric) or {@code zero}: b_dec at the data centre makes early steps useful
 * @param dOut          0 for a sparse autoencoder (reconstructs its input); else a transcoder that reads d_in-wide
 *                      activations of one hook and reconstructs the d_out-wide activations of another
 */
public record SaeConfig(Architecture architecture, int dIn, int dSae, int k, double l1, double l0, double bandwidth, double initThreshold,
                        int auxK, double auxCoeff, long deadAfter, double lr, int warmupSteps, int decaySteps, int steps, int batchSize,
                        long seed, String bDecInit, int dOut) implements java.io.Serializable {
    public SaeConfig {
        if (dIn < 1 || dSae < 1 || steps < 0 || batchSize < 1) {
            throw new IllegalArgumentException("d_in, d_sae and batch size must be >= 1 and steps >= 0");
        }
        if ((architecture == Architecture.TOPK || architecture == Architecture.BATCH_TOPK) && (k < 1 || k > dSae)) {
            throw new IllegalArgumentException("k must be in [1, d_sae = " + dSae + "], got " + k);
        }
        if (!(lr > 0) || warmupSteps < 0 || decaySteps < 0 || auxK < 0 || !(bandwidth > 0) || !(initThreshold > 0)) {
            throw new IllegalArgumentException("lr, bandwidth and init threshold must be > 0; warm-up, decay and aux k >= 0");
        }
        if (dOut < 0) {
            throw new IllegalArgumentException("d_out must be >= 0 (0: not a transcoder), got " + dOut);
        }
        if (!bDecInit.equals("mean") && !bDecInit.equals("median") && !bDecInit.equals("zero")) {
            throw new IllegalArgumentException("b_dec init must be mean, median or zero, got " + bDecInit);
        }
    }

    /** Defaults for an architecture and shape, to adjust with the {@code with*} methods. */
    public static SaeConfig defaults(Architecture a, int dIn, int dSae, int k) {
        return new SaeConfig(a, dIn, dSae, k, 5.0, 1.0, 0.001, 0.001, Math.max(1, Math.min(dSae, dIn / 2)), 1.0 / 32, 10_000_000L,
                2e-4, 100, 0, 1000, 4096, 0, "mean", 0);
    }

    public SaeConfig withTraining(double lr, int steps, int batchSize, int warmupSteps, int decaySteps) {
        return new SaeConfig(architecture, dIn, dSae, k, l1, l0, bandwidth, initThreshold, auxK, auxCoeff, deadAfter, lr, warmupSteps,
                decaySteps, steps, batchSize, seed, bDecInit, dOut);
    }

    public SaeConfig withSparsity(double l1, double l0) {
        return new SaeConfig(architecture, dIn, dSae, k, l1, l0, bandwidth, initThreshold, auxK, auxCoeff, deadAfter, lr, warmupSteps,
                decaySteps, steps, batchSize, seed, bDecInit, dOut);
    }

    /** JumpReLU's straight-through kernel width ε and initial θ; ε must match the scale of the pre-activations. */
    public SaeConfig withJump(double bandwidth, double initThreshold) {
        return new SaeConfig(architecture, dIn, dSae, k, l1, l0, bandwidth, initThreshold, auxK, auxCoeff, deadAfter, lr, warmupSteps,
                decaySteps, steps, batchSize, seed, bDecInit, dOut);
    }

    public SaeConfig withSeed(long seed) {
        return new SaeConfig(architecture, dIn, dSae, k, l1, l0, bandwidth, initThreshold, auxK, auxCoeff, deadAfter, lr, warmupSteps,
                decaySteps, steps, batchSize, seed, bDecInit, dOut);
    }

    public SaeConfig withDeadAfter(long tokens) {
        return new SaeConfig(architecture, dIn, dSae, k, l1, l0, bandwidth, initThreshold, auxK, auxCoeff, tokens, lr, warmupSteps,
                decaySteps, steps, batchSize, seed, bDecInit, dOut);
    }

    public SaeConfig withBDecInit(String init) {
        return new SaeConfig(architecture, dIn, dSae, k, l1, l0, bandwidth, initThreshold, auxK, auxCoeff, deadAfter, lr, warmupSteps,
                decaySteps, steps, batchSize, seed, init, dOut);
    }

    /** A transcoder from d_in-wide inputs to {@code dOut}-wide targets. */
    public SaeConfig withTranscoderOut(int dOut) {
        return new SaeConfig(architecture, dIn, dSae, k, l1, l0, bandwidth, initThreshold, auxK, auxCoeff, deadAfter, lr, warmupSteps,
                decaySteps, steps, batchSize, seed, bDecInit, dOut);
    }

    public boolean transcoder() {
        return dOut > 0;
    }

    /** Width of what the dictionary reconstructs: d_out for a transcoder, else d_in. */
    public int outWidth() {
        return dOut > 0 ? dOut : dIn;
    }

    /** Width of a training row: the input, followed by the target for a transcoder. */
    public int rowWidth() {
        return dIn + dOut;
    }

    /** Learning rate at a step: linear warm-up, flat, then linear decay to 0 over the last {@code decaySteps}. */
    public double lrAt(int step) {
        double f = 1.0;
        if (warmupSteps > 0 && step < warmupSteps) {
            f = (step + 1.0) / warmupSteps;
        }
        int decayStart = steps - decaySteps;
        if (decaySteps > 0 && step >= decayStart) {
            f = Math.min(f, (double) (steps - step) / decaySteps);
        }
        return lr * f;
    }
}
