package io.loupe.circuits;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import io.loupe.hooks.Hooks;
import io.loupe.model.LanguageModel;
import io.loupe.model.TokenBatch;

import java.util.List;
import java.util.Set;

/**
 * Patching computed the plain way, one example at a time through hooks and indexing: the independent
 * path the batched, mask-based implementations are checked against (here and in the jobs tests).
 */
public final class DirectPatching {
    private DirectPatching() {
    }

    /** The metric of one example with {@code node} patched from the source run (null: the target run unpatched). */
    public static double patched(LanguageModel model, TaskExample e, Node node, Direction d) {
        long[] src = d.fromClean() ? e.clean() : e.corrupt(), tgt = d.fromClean() ? e.corrupt() : e.clean();
        try (NDManager m = model.manager().newSubManager()) {
            Hooks hooks = new Hooks();
            if (node != null) {
                Hooks cap = new Hooks().capture(node.hook());
                model.forward(TokenBatch.of(m, List.of(src), 0), cap);
                NDArray s = cap.captured(node.hook());
                hooks.replace(node.hook(), (x, p) -> setSlice(x, node, s));
            }
            return logitDiff(model.forward(TokenBatch.of(m, List.of(tgt), 0), hooks), e);
        }
    }

    /** The clean metric with each node of {@code ablate} set to its batch mean in the captured corrupted runs {@code corrupt}. */
    public static double meanAblated(LanguageModel model, TaskExample e, Set<Node> ablate, Hooks corrupt) {
        try (NDManager m = model.manager().newSubManager()) {
            Hooks hooks = new Hooks();
            for (Node n : ablate) {
                NDArray mean = corrupt.captured(n.hook()).mean(new int[]{0}, true);
                hooks.replace(n.hook(), (x, p) -> setSlice(x, n, mean));
            }
            return logitDiff(model.forward(TokenBatch.of(m, List.of(e.clean()), 0), hooks), e);
        }
    }

    /** A copy of {@code x} with {@code node}'s slice taken from {@code value}. */
    static NDArray setSlice(NDArray x, Node node, NDArray value) {
        NDArray y = x.duplicate();
        NDIndex idx = switch (node.type()) {
            case RESID_POS -> new NDIndex(":, {}, :", node.index());
            case HEAD -> new NDIndex(":, :, {}, :", node.index());
            default -> new NDIndex(":, :, :");
        };
        y.set(idx, value.get(idx));
        return y;
    }

    static double logitDiff(NDArray logits, TaskExample e) {
        double[] row = logits.get(0, e.answerPos()).toType(DataType.FLOAT64, false).toDoubleArray();
        return row[(int) e.answer()] - row[(int) e.wrong()];
    }
}
