package io.loupe.dict;

/**
 * The sparse dictionary encoders Loupe trains. Each has its training name (SAELens' training architecture, used in
 * folder names and results) and the inference architecture its {@code cfg.json} declares ({@link #savedAs}).
 */
public enum Architecture {
    /** f = ReLU(pre); loss adds λ·Σ_i f_i·‖W_dec[i]‖ (L1 weighted by decoder row norms, Anthropic 2024). */
    RELU("standard"),
    /** f keeps the k largest ReLU(pre) per token (Gao et al. 2024), with the AuxK loss against dead latents. */
    TOPK("topk"),
    /** f keeps the k·n largest ReLU(pre) over a batch of n tokens (Bussmann et al. 2024); a global threshold at inference. */
    BATCH_TOPK("batchtopk"),
    /** f = pre·H(pre − θ) with learned θ; L0 penalty; straight-through gradients for θ (Rajamanoharan et al. 2024). */
    JUMPRELU("jumprelu"),
    /**
     * Gated (Rajamanoharan et al. 2024, "Improving Dictionary Learning with Gated Sparse Autoencoders"): a gate path
     * {@code π_gate = x̃ W_enc + b_gate} decides which latents fire, a magnitude path with the same directions rescaled
     * per latent, {@code π_mag = x̃ W_enc e^{r_mag} + b_mag}, how much: {@code f = 1[π_gate > 0] · ReLU(π_mag)}. Loss adds
     * λ·Σ_i ReLU(π_gate)_i·‖W_dec[i]‖ and the reconstruction from ReLU(π_gate) through a frozen decoder.
     */
    GATED("gated"),
    /**
     * Matryoshka (Bussmann et al. 2025, "Learning Multi-Level Features with Matryoshka Sparse Autoencoders"): BatchTopK
     * codes whose nested prefixes, the first d_sae/16, d_sae/8, d_sae/4, d_sae/2 latents, must each reconstruct the
     * target as well as the whole dictionary; the reconstruction losses are summed (plus AuxK).
     */
    MATRYOSHKA("matryoshka_batchtopk");

    private final String saeLensName;

    Architecture(String saeLensName) {
        this.saeLensName = saeLensName;
    }

    /** Whether the codes are a top-k selection, per row or per batch (TopK, BatchTopK, Matryoshka). */
    public boolean hasTopKCodes() {
        return this == TOPK || this == BATCH_TOPK || this == MATRYOSHKA;
    }

    /** The training architecture's name, as SAELens' training configs spell it. */
    public String saeLensName() {
        return saeLensName;
    }

    /**
     * The inference architecture a checkpoint declares: BatchTopK and Matryoshka become JumpReLU with their global
     * threshold (as SAELens 6 saves them); transcoders take SAELens' transcoder names. {@code topk_transcoder} and
     * {@code gated_transcoder} have no SAELens class ({@link #inSaeLens}).
     */
    public String savedAs(boolean transcoder) {
        String base = switch (this) {
            case RELU -> "standard";
            case TOPK -> "topk";
            case BATCH_TOPK, JUMPRELU, MATRYOSHKA -> "jumprelu";
            case GATED -> "gated";
        };
        if (!transcoder) {
            return base;
        }
        return base.equals("standard") ? "transcoder" : base + "_transcoder";
    }

    /** Whether SAELens 6 has a class that loads {@link #savedAs}. */
    public boolean inSaeLens(boolean transcoder) {
        return !transcoder || this == RELU || this == BATCH_TOPK || this == JUMPRELU || this == MATRYOSHKA;
    }

    /** TopK, BatchTopK and Matryoshka fix their sparsity by k. */
    public boolean usesK() {
        return this == TOPK || this == BATCH_TOPK || this == MATRYOSHKA;
    }

    /** ReLU and Gated are sparse through an L1 penalty. */
    public boolean usesL1() {
        return this == RELU || this == GATED;
    }

    public static Architecture parse(String s) {
        return switch (s.toLowerCase().replace("-", "").replace("_", "")) {
            case "relu", "standard", "l1" -> RELU;
            case "topk" -> TOPK;
            case "batchtopk" -> BATCH_TOPK;
            case "jumprelu" -> JUMPRELU;
            case "gated" -> GATED;
            case "matryoshka", "matryoshkabatchtopk" -> MATRYOSHKA;
            default -> throw new IllegalArgumentException("unknown architecture '" + s + "': use relu, topk, batchtopk, jumprelu, gated or matryoshka");
        };
    }
}
