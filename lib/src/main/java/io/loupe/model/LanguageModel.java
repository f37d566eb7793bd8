package io.loupe.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.loupe.hooks.HookPoint;
import io.loupe.hooks.Hooks;

import java.util.List;

/** A causal language model whose every hook point can be read, replaced and differentiated. */
public interface LanguageModel extends AutoCloseable {

    ModelConfig config();

    /** The manager that owns the weights; make batch managers with {@code manager().newSubManager()}. */
    NDManager manager();

    /** The float type the weights and activations use (float32 by default). */
    DataType dataType();

    default Device device() {
        return manager().getDevice();
    }

    /**
     * Runs the model over a batch, calling {@code hooks} at every hook point.
     *
     * @return logits {@code [batch, seq, vocab]}, in the batch's manager
     */
    NDArray forward(TokenBatch batch, Hooks hooks);

    /**
     * Runs only the batch's positions, which follow those already in {@code cache}, attending over both, and adds
     * them to the cache: incremental decoding. The first call with an empty cache is the plain forward pass.
     *
     * @return logits of the new positions {@code [batch, new, vocab]}
     */
    NDArray forward(TokenBatch batch, Hooks hooks, KvCache cache);

    /**
     * Runs blocks {@code layer..L-1} and the head from a given residual stream entering block {@code layer}
     * (what {@code blocks.{layer}.hook_resid_pre} holds): the tail of a forward pass whose earlier blocks
     * are known not to change, e.g. a patch at layer {@code layer} or later. Hooks of earlier blocks are not called.
     *
     * @param residPre {@code [batch, seq, d_model]}
     * @return logits {@code [batch, seq, vocab]}, in the batch's manager
     */
    NDArray forwardFrom(TokenBatch batch, int layer, NDArray residPre, Hooks hooks);

    /** The MLP's down projection of a block, {@code [d_model, d_mlp]} (Hugging Face layout): what CETT weighs neurons by. */
    NDArray mlpDown(int layer);

    /**
     * The trainable tensors, by name, in the layout the forward pass reads them (a family may stack several file
     * tensors into one); set {@code requiresGradient} on them to train.
     */
    java.util.Map<String, NDArray> parameters();

    /**
     * The current weights under their Hugging Face names and shapes, detached from autograd and attached to {@code m},
     * ready for {@code model.safetensors}.
     */
    java.util.Map<String, NDArray> huggingFaceWeights(NDManager m);

    /** Every hook point this model exposes, in forward order. */
    default List<HookPoint> hookPoints() {
        return HookPoint.all(config().numLayers());
    }

    /** Throws, listing the valid names, if a hook point does not exist in this model. */
    default void validate(Iterable<HookPoint> points) {
        for (HookPoint p : points) {
            p.validate(config().numLayers());
        }
    }

    @Override
    void close();
}
