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
 * @param normalize     train on activations scaled so that E‖x‖² = d_in (and E‖y‖² = d_out for a transcoder's targets),
 *                      as SAELens' {@code expected_average_only_in}, so penalties mean the same on every model and hook;
 *                      the scales are folded into the saved weights, which then read raw activations
 */
public record SaeConfig(Architecture architecture, int dIn, int dSae, int k, double l1, double l0, double bandwidth, double initThreshold,
                        int auxK, double auxCoeff, long deadAfter, double lr, int warmupSteps, int decaySteps, int steps, int batchSize,
                        long seed, String bDecInit, int dOut, boolean normalize) implements java.io.Serializable {
    public SaeConfig {
        if (dIn < 1 || dSae < 1 || steps < 0 || batchSize < 1) {
            throw new IllegalArgumentException("d_in, d_sae and batch size must be >= 1 and steps >= 0");
        }
        if (architecture.usesK() && (k < 1 || k > dSae)) {
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

    /**
     * Defaults for an architecture and shape, to adjust with the {@code with*} methods. The penalties and JumpReLU's θ
     * and ε are in units of normalised activations (mean norm √d_in): λ₁ = {@link #defaultL1}, λ₀ = {@link #DEFAULT_L0},
     * θ₀ = 1 (a random unit direction's pre-activation is about unit-scale, so about a sixth of the latents fire at
     * first: Adam moves log θ by about the learning rate per step, so θ₀ sets the early L0), ε = 0.1.
     */
    public static SaeConfig defaults(Architecture a, int dIn, int dSae, int k) {
        return new SaeConfig(a, dIn, dSae, k, defaultL1(a), DEFAULT_L0, 0.1, 1.0, Math.max(1, Math.min(dSae, dIn / 2)), 1.0 / 32, 10_000_000L,
                2e-4, 100, 0, 1000, 4096, 0, "mean", 0, true);
    }

    /** JumpReLU's default L0 coefficient. */
    public static final double DEFAULT_L0 = 0.3;

    /**
     * The default L1 coefficient: 1 for ReLU, 2 for Gated (whose penalty acts on the gate path only). On stories260k
     * {@code blocks.2.hook_resid_post}, width 256, 400 steps, these gave FVU 0.20 at L0 52 and 0.16 at L0 45
     * (2026-12-01; the README's fit section has the table).
     */
    public static double defaultL1(Architecture a) {
        return a == Architecture.GATED ? 2.0 : 1.0;
    }

    public SaeConfig withTraining(double lr, int steps, int batchSize, int warmupSteps, int decaySteps) {
        return new SaeConfig(architecture, dIn, dSae, k, l1, l0, bandwidth, initThreshold, auxK, auxCoeff, deadAfter, lr, warmupSteps,
                decaySteps, steps, batchSize, seed, bDecInit, dOut, normalize);
    }

    public SaeConfig withSparsity(double l1, double l0) {
        return new SaeConfig(architecture, dIn, dSae, k, l1, l0, bandwidth, initThreshold, auxK, auxCoeff, deadAfter, lr, warmupSteps,
                decaySteps, steps, batchSize, seed, bDecInit, dOut, normalize);
    }

    /** JumpReLU's straight-through kernel width ε and initial θ; ε must match the scale of the pre-activations. */
    public SaeConfig withJump(double bandwidth, double initThreshold) {
        return new SaeConfig(architecture, dIn, dSae, k, l1, l0, bandwidth, initThreshold, auxK, auxCoeff, deadAfter, lr, warmupSteps,
                decaySteps, steps, batchSize, seed, bDecInit, dOut, normalize);
    }

    public SaeConfig withSeed(long seed) {
        return new SaeConfig(architecture, dIn, dSae, k, l1, l0, bandwidth, initThreshold, auxK, auxCoeff, deadAfter, lr, warmupSteps,
                decaySteps, steps, batchSize, seed, bDecInit, dOut, normalize);
    }

    public SaeConfig withDeadAfter(long tokens) {
        return new SaeConfig(architecture, dIn, dSae, k, l1, l0, bandwidth, initThreshold, auxK, auxCoeff, tokens, lr, warmupSteps,
                decaySteps, steps, batchSize, seed, bDecInit, dOut, normalize);
    }

    public SaeConfig withBDecInit(String init) {
        return new SaeConfig(architecture, dIn, dSae, k, l1, l0, bandwidth, initThreshold, auxK, auxCoeff, deadAfter, lr, warmupSteps,
                decaySteps, steps, batchSize, seed, init, dOut, normalize);
    }

    /** With or without training on norm-scaled activations (see {@code normalize}). */
    public SaeConfig withNormalize(boolean normalize) {
        return new SaeConfig(architecture, dIn, dSae, k, l1, l0, bandwidth, initThreshold, auxK, auxCoeff, deadAfter, lr, warmupSteps,
                decaySteps, steps, batchSize, seed, bDecInit, dOut, normalize);
    }

    /** A transcoder from d_in-wide inputs to {@code dOut}-wide targets. */
    public SaeConfig withTranscoderOut(int dOut) {
        return new SaeConfig(architecture, dIn, dSae, k, l1, l0, bandwidth, initThreshold, auxK, auxCoeff, deadAfter, lr, warmupSteps,
                decaySteps, steps, batchSize, seed, bDecInit, dOut, normalize);
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

    /**
     * Whether training computes only the active latents after the encoder ({@link TopKGradients}) rather than dense codes
     * through autograd: for top-k codes once {@code d_sae ≥ 32·k}. Below that the dense form is faster; measured
     * 2026-12-02 with {@code bench fit --d-sae} (d_in 512, k 32, batch 4096): dense 28,800 / 21,900 / 8,300 tokens/s
     * at d_sae 256 / 512 / 1024 (from a build with this returning false), sparse 16,700 / 14,500 / 11,200, and sparse
     * 2.5× dense at 4096.
     */
    public boolean trainsSparsely() {
        return architecture.hasTopKCodes() && dSae >= 32L * k;
    }

    /**
     * Matryoshka's nested prefix widths, smallest first and ending with d_sae: d_sae/16, d_sae/8, d_sae/4, d_sae/2, d_sae
     * (those of at least one latent, without repeats).
     */
    public java.util.List<Integer> nestedWidths() {
        java.util.TreeSet<Integer> w = new java.util.TreeSet<>();
        for (int div = 16; div >= 1; div /= 2) {
            if (dSae / div >= 1) {
                w.add(dSae / div);
            }
        }
        return java.util.List.copyOf(w);
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
