package io.loupe.circuits;

import io.loupe.hooks.HookPoint;
import io.loupe.model.ModelConfig;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * One node: a slice of a hook point that patching replaces and attribution scores.
 *
 * @param type  what the slice is
 * @param layer the block
 * @param index the position for {@link NodeType#RESID_POS}, the head for {@link NodeType#HEAD}, else 0
 */
public record Node(NodeType type, int layer, int index) implements Serializable, Comparable<Node> {

    public HookPoint hook() {
        return HookPoint.of(layer, type.hook());
    }

    /** E.g. {@code blocks.2.hook_resid_pre@pos5}, {@code blocks.1.attn.hook_z@head3}, {@code blocks.0.hook_mlp_out}. */
    public String name() {
        return switch (type) {
            case RESID_POS -> hook() + "@pos" + index;
            case HEAD -> hook() + "@head" + index;
            default -> hook().name();
        };
    }

    /** Every node of {@code types} in a model, with positions {@code 0..seqLen-1} for residual nodes. */
    public static List<Node> enumerate(ModelConfig cfg, List<NodeType> types, int seqLen) {
        List<Node> out = new ArrayList<>();
        for (NodeType t : types) {
            for (int l = 0; l < cfg.numLayers(); l++) {
                int n = switch (t) {
                    case RESID_POS -> seqLen;
                    case HEAD -> cfg.numHeads();
                    default -> 1;
                };
                for (int i = 0; i < n; i++) {
                    out.add(new Node(t, l, i));
                }
            }
        }
        return out;
    }

    @Override
    public int compareTo(Node o) {
        if (type != o.type) {
            return type.compareTo(o.type);
        }
        return layer != o.layer ? Integer.compare(layer, o.layer) : Integer.compare(index, o.index);
    }

    @Override
    public String toString() {
        return name();
    }
}
