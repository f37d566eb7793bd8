package io.loupe.hooks;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The kinds of hook point inside one transformer block, named as TransformerLens names them.
 * Shapes are those the model hands to hooks, with the batch dimension first.
 */
public enum HookKind {
    /** Residual stream entering the block. {@code [batch, seq, d_model]} */
    RESID_PRE("hook_resid_pre"),
    /** Residual stream after attention, before the MLP. {@code [batch, seq, d_model]} */
    RESID_MID("hook_resid_mid"),
    /** Residual stream leaving the block. {@code [batch, seq, d_model]} */
    RESID_POST("hook_resid_post"),
    /** Attention output after the output projection. {@code [batch, seq, d_model]} */
    ATTN_OUT("hook_attn_out"),
    /** MLP output after the down projection. {@code [batch, seq, d_model]} */
    MLP_OUT("hook_mlp_out"),
    /** Per-head attention-weighted values, before the output projection. {@code [batch, seq, heads, d_head]} */
    ATTN_Z("attn.hook_z"),
    /** Attention probabilities after softmax. {@code [batch, heads, query, key]} */
    ATTN_PATTERN("attn.hook_pattern"),
    /** MLP hidden activation entering the down projection: act(gate) * up for gated MLPs, act(h W_in + b) for plain ones. {@code [batch, seq, d_mlp]} */
    MLP_POST("mlp.hook_post");

    private final String suffix;

    HookKind(String suffix) {
        this.suffix = suffix;
    }

    /** The name after {@code blocks.{l}.}, e.g. {@code attn.hook_z}. */
    public String suffix() {
        return suffix;
    }

    /** Position in a block's forward pass: resid_pre, pattern, z, attn_out, resid_mid, mlp.hook_post, mlp_out, resid_post. */
    public int forwardOrder() {
        return switch (this) {
            case RESID_PRE -> 0;
            case ATTN_PATTERN -> 1;
            case ATTN_Z -> 2;
            case ATTN_OUT -> 3;
            case RESID_MID -> 4;
            case MLP_POST -> 5;
            case MLP_OUT -> 6;
            case RESID_POST -> 7;
        };
    }

    static HookKind fromSuffix(String suffix) {
        for (HookKind k : values()) {
            if (k.suffix.equals(suffix)) {
                return k;
            }
        }
        return null;
    }

    static String allSuffixes() {
        return Arrays.stream(values()).map(HookKind::suffix).collect(Collectors.joining(", "));
    }
}
