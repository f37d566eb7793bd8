package io.loupe.hooks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one hook mechanism every read and intervention uses, for one forward pass.
 *
 * <p>At each hook point the model calls {@link #apply}: the replacement functions registered for that
 * point run in registration order, the result is captured if asked, and, if a gradient is asked, a
 * zero leaf {@code delta} that requires a gradient is added ({@code x + delta}), so that after
 * {@code backward} the gradient of {@code delta} is the gradient with respect to the activation.
 * Captures and gradients see the activation after replacements, as in TransformerLens.
 *
 * <p>A {@code Hooks} holds the arrays of one pass; make a new one for each forward call. Captured arrays
 * belong to the NDManager of the batch passed to the model and live until it is closed.
 */
public final class Hooks {
    private final Map<HookPoint, List<HookFn>> replacements = new HashMap<>();
    private final Set<HookPoint> captures = new LinkedHashSet<>();
    private final Set<HookPoint> gradients = new LinkedHashSet<>();
    private final Map<HookPoint, NDArray> captured = new HashMap<>();
    private final Map<HookPoint, NDArray> gradientLeaves = new HashMap<>();

    /** No hooks: the plain forward pass. */
    public static Hooks none() {
        return new Hooks();
    }

    /** Captures the activation at each point; read it with {@link #captured}. */
    public Hooks capture(Collection<HookPoint> points) {
        captures.addAll(points);
        return this;
    }

    public Hooks capture(HookPoint... points) {
        return capture(List.of(points));
    }

    /** Replaces the activation at {@code point} by {@code fn(activation)}; several run in the order added. */
    public Hooks replace(HookPoint point, HookFn fn) {
        replacements.computeIfAbsent(point, p -> new ArrayList<>()).add(fn);
        return this;
    }

    /**
     * Asks for the gradient at each point; call the forward inside a {@code GradientCollector}, call
     * {@code backward} on a scalar, then read {@link #gradient}. {@link HookGradients} does all three.
     */
    public Hooks watchGradient(Collection<HookPoint> points) {
        gradients.addAll(points);
        return this;
    }

    /** Every hook point this object acts on, for validation against a model. */
    public Set<HookPoint> points() {
        Set<HookPoint> all = new LinkedHashSet<>(replacements.keySet());
        all.addAll(captures);
        all.addAll(gradients);
        return Collections.unmodifiableSet(all);
    }

    /** Whether this object replaces, captures or watches the gradient at {@code point}. */
    public boolean touches(HookPoint point) {
        return replacements.containsKey(point) || captures.contains(point) || gradients.contains(point);
    }

    /** Called by the model at each hook point; returns the activation the forward pass continues with. */
    public NDArray apply(HookPoint point, NDArray activation) {
        NDArray x = activation;
        for (HookFn fn : replacements.getOrDefault(point, List.of())) {
            NDArray y = fn.apply(x, point);
            if (!y.getShape().equals(x.getShape())) {
                throw new IllegalStateException("hook at " + point + " returned shape " + y.getShape()
                        + " for an activation of shape " + x.getShape());
            }
            x = y;
        }
        if (gradients.contains(point)) {
            NDArray delta = x.zerosLike();
            delta.setRequiresGradient(true);
            NDScope.unregister(delta);
            gradientLeaves.put(point, delta);
            x = x.add(delta);
        }
        if (captures.contains(point)) {
            NDScope.unregister(x);
            captured.put(point, x);
        }
        return x;
    }

    /** The activation captured at {@code point} in the last pass. */
    public NDArray captured(HookPoint point) {
        NDArray a = captured.get(point);
        if (a == null) {
            throw new IllegalStateException("nothing captured at " + point + "; captured: " + captured.keySet());
        }
        return a;
    }

    /** The gradient of the backward scalar with respect to the activation at {@code point}. */
    public NDArray gradient(HookPoint point) {
        NDArray leaf = gradientLeaves.get(point);
        if (leaf == null) {
            throw new IllegalStateException("no gradient was watched at " + point);
        }
        return leaf.getGradient();
    }
}
