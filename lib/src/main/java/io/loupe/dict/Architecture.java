package io.loupe.dict;

/** The sparse dictionary encoders Loupe trains, with the name SAELens' {@code cfg.json} uses for each. */
public enum Architecture {
    /** f = ReLU(pre); loss adds λ·Σ_i f_i·‖W_dec[i]‖ (L1 weighted by decoder row norms, Anthropic 2024). */
    RELU("standard"),
    /** f keeps the k largest ReLU(pre) per token (Gao et al. 2024), with the AuxK loss against dead latents. */
    TOPK("topk"),
    /** f keeps the k·n largest ReLU(pre) over a batch of n tokens (Bussmann et al. 2024); a global threshold at inference. */
    BATCH_TOPK("batchtopk"),
    /** f = pre·H(pre − θ) with learned θ; L0 penalty; straight-through gradients for θ (Rajamanoharan et al. 2024). */
    JUMPRELU("jumprelu");

    private final String saeLensName;

    Architecture(String saeLensName) {
        this.saeLensName = saeLensName;
    }

    public String saeLensName() {
        return saeLensName;
    }

    public static Architecture parse(String s) {
        return switch (s.toLowerCase().replace("-", "").replace("_", "")) {
            case "relu", "standard", "l1" -> RELU;
            case "topk" -> TOPK;
            case "batchtopk" -> BATCH_TOPK;
            case "jumprelu" -> JUMPRELU;
            default -> throw new IllegalArgumentException("unknown architecture '" + s + "': use relu, topk, batchtopk or jumprelu");
        };
    }
}
