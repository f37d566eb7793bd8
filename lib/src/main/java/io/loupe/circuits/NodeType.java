package io.loupe.circuits;

import io.loupe.hooks.HookKind;

/** The kinds of node circuits are scored on, each one slice of one hook point. */
public enum NodeType {
    /** The residual stream entering a block at one position: {@code blocks.l.hook_resid_pre[:, pos, :]}. */
    RESID_POS("resid_pre", HookKind.RESID_PRE),
    /** A block's whole attention output, all positions: {@code blocks.l.hook_attn_out}. */
    ATTN("attn_out", HookKind.ATTN_OUT),
    /** A block's whole MLP output, all positions: {@code blocks.l.hook_mlp_out}. */
    MLP("mlp_out", HookKind.MLP_OUT),
    /** One attention head's output before W_O, all positions: {@code blocks.l.attn.hook_z[:, :, head, :]}. */
    HEAD("head", HookKind.ATTN_Z);

    private final String label;
    private final HookKind hook;

    NodeType(String label, HookKind hook) {
        this.label = label;
        this.hook = hook;
    }

    /** Short name used in outputs and on the command line. */
    public String label() {
        return label;
    }

    public HookKind hook() {
        return hook;
    }

    public static NodeType parse(String s) {
        for (NodeType t : values()) {
            if (t.label.equalsIgnoreCase(s.trim()) || t.name().equalsIgnoreCase(s.trim())) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown node type '" + s + "': use resid_pre, attn_out, mlp_out or head");
    }
}
