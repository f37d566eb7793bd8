package io.loupe.model;

import ai.djl.ndarray.NDArray;
import ai.djl.training.GradientCollector;
import io.loupe.hooks.HookPoint;
import io.loupe.hooks.Hooks;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/** Gradients of a scalar function of the logits with respect to hook-point activations. */
public final class HookGradients {
    private HookGradients() {
    }

    /**
     * One forward and one backward pass.
     *
     * @param hooks  the hooks for this pass (replacements in it apply, as in any forward); may be {@link Hooks#none()}
     * @param scalar maps logits {@code [batch, seq, vocab]} to a scalar (shape {@code []} or {@code [1]})
     * @return per point, d scalar / d activation, shaped like the activation, in the batch's manager
     */
    public static Map<HookPoint, NDArray> compute(LanguageModel model, TokenBatch batch, Hooks hooks,
                                                  Collection<HookPoint> points, Function<NDArray, NDArray> scalar) {
        hooks.watchGradient(points);
        Map<HookPoint, NDArray> grads = new LinkedHashMap<>();
        synchronized (Runtime.AUTOGRAD) {
            try (GradientCollector collector = Runtime.engine().newGradientCollector()) {
                NDArray value = scalar.apply(model.forward(batch, hooks));
                if (value.getShape().size() != 1) {
                    throw new IllegalArgumentException("gradient target must be a scalar, got shape " + value.getShape());
                }
                collector.backward(value);
                for (HookPoint p : points) {
                    grads.put(p, hooks.gradient(p).duplicate());
                }
            }
        }
        return grads;
    }
}
