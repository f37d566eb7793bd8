package io.loupe.hooks;

import ai.djl.ndarray.NDArray;

/**
 * A function applied at a hook point during the forward pass: it receives the activation and returns
 * the activation the model continues with (the same array to only read it, another to replace it).
 * The shape it returns must equal the shape it receives; see {@link HookKind} for the shapes.
 */
@FunctionalInterface
public interface HookFn {
    NDArray apply(NDArray activation, HookPoint point);
}
