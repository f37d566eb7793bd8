package io.loupe.hooks;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A parsed hook-point name such as {@code blocks.3.mlp.hook_post}: a layer and a {@link HookKind}.
 * Parsing checks the syntax; {@link #validate} checks the layer against a model.
 */
public record HookPoint(int layer, HookKind kind) implements Comparable<HookPoint>, java.io.Serializable {
    private static final Pattern NAME = Pattern.compile("blocks\\.(\\d+)\\.(.+)");

    public HookPoint {
        if (layer < 0) {
            throw new IllegalArgumentException("hook layer must be >= 0, got " + layer);
        }
        if (kind == null) {
            throw new IllegalArgumentException("hook kind is null");
        }
    }

    public static HookPoint of(int layer, HookKind kind) {
        return new HookPoint(layer, kind);
    }

    /** Parses a TransformerLens hook name; the error lists the valid forms. */
    public static HookPoint parse(String name) {
        Matcher m = NAME.matcher(name == null ? "" : name.trim());
        HookKind kind = m.matches() ? HookKind.fromSuffix(m.group(2)) : null;
        if (kind == null) {
            throw new IllegalArgumentException("unknown hook name '" + name + "': expected blocks.{layer}.{point} with point one of "
                    + HookKind.allSuffixes());
        }
        return new HookPoint(Integer.parseInt(m.group(1)), kind);
    }

    /** Parses a comma-separated list, e.g. {@code blocks.0.hook_resid_post,blocks.3.mlp.hook_post}. */
    public static List<HookPoint> parseList(String names) {
        List<HookPoint> out = new ArrayList<>();
        for (String n : names.split(",")) {
            if (!n.isBlank()) {
                out.add(parse(n));
            }
        }
        return out;
    }

    /** Every hook point of a model with {@code numLayers} blocks, in forward order. */
    public static List<HookPoint> all(int numLayers) {
        List<HookPoint> out = new ArrayList<>();
        for (int l = 0; l < numLayers; l++) {
            for (HookKind k : HookKind.values()) {
                out.add(new HookPoint(l, k));
            }
        }
        return out;
    }

    /** Throws, naming the valid layers and points, if this hook does not exist in a model of {@code numLayers} blocks. */
    public void validate(int numLayers) {
        if (layer >= numLayers) {
            throw new IllegalArgumentException("unknown hook name '" + this + "': the model has blocks 0.." + (numLayers - 1)
                    + "; valid hooks are blocks.{0.." + (numLayers - 1) + "}.{" + HookKind.allSuffixes() + "}");
        }
    }

    /** True if this point is computed before {@code other} in a forward pass. */
    public boolean before(HookPoint other) {
        return layer != other.layer ? layer < other.layer : kind.forwardOrder() < other.kind.forwardOrder();
    }

    public String name() {
        return "blocks." + layer + "." + kind.suffix();
    }

    @Override
    public String toString() {
        return name();
    }

    @Override
    public int compareTo(HookPoint o) {
        return layer != o.layer ? Integer.compare(layer, o.layer) : kind.compareTo(o.kind);
    }
}
