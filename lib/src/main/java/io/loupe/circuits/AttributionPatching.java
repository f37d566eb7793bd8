package io.loupe.circuits;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.loupe.hooks.HookPoint;
import io.loupe.hooks.Hooks;
import io.loupe.model.HookGradients;
import io.loupe.model.LanguageModel;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Attribution patching (Nanda 2023; Syed et al. 2023): the first-order estimate of activation patching,
 * {@code m(patched) − m(target) ≈ Σ (∂m/∂a)|_target · (a_source − a_target)}, summed over the node's
 * slice (the model dimension, and positions for whole-layer and head nodes). One forward pass on the
 * source prompts and one forward plus one backward on the target prompts per batch score every node.
 * Gradients of the summed batch metric equal per-example gradients, since examples do not interact.
 */
public final class AttributionPatching {
    private AttributionPatching() {
    }

    public static PatchResult run(LanguageModel model, List<TaskExample> examples, List<Node> nodes, Direction dir) {
        int b = examples.size();
        Set<HookPoint> points = new LinkedHashSet<>();
        nodes.forEach(n -> points.add(n.hook()));
        try (NDManager m = model.manager().newSubManager()) {
            TaskBatch batch = TaskBatch.of(m, examples);
            Hooks source = new Hooks().capture(points);
            double[] mSource = ActivationPatching.toDoubles(batch.metric(model.forward(batch.prompts(dir, true), source), 1));
            Hooks target = new Hooks().capture(points);
            double[][] mTarget = new double[1][];
            Map<HookPoint, NDArray> grads = HookGradients.compute(model, batch.prompts(dir, false), target, new ArrayList<>(points), logits -> {
                NDArray metric = batch.metric(logits, 1);
                mTarget[0] = ActivationPatching.toDoubles(metric);
                return metric.sum();
            });
            double[][] estimate = new double[nodes.size()][];
            for (HookPoint p : points) {
                NDArray effect = grads.get(p).mul(source.captured(p).sub(target.captured(p)));
                double[] perRow = null;   // the effect summed over each node's slice, row-major over [B, width]
                int width = 1;
                for (int n = 0; n < nodes.size(); n++) {
                    Node node = nodes.get(n);
                    if (!node.hook().equals(p)) {
                        continue;
                    }
                    if (perRow == null) {
                        NDArray summed = switch (node.type()) {
                            case RESID_POS -> effect.sum(new int[]{2});          // [B, T]
                            case HEAD -> effect.sum(new int[]{1, 3});            // [B, H]
                            default -> effect.sum(new int[]{1, 2}).reshape(b, 1);  // [B, 1]
                        };
                        width = (int) summed.getShape().get(1);
                        perRow = ActivationPatching.toDoubles(summed);
                    }
                    int i = node.type() == NodeType.RESID_POS || node.type() == NodeType.HEAD ? node.index() : 0;
                    estimate[n] = new double[b];
                    for (int e = 0; e < b; e++) {
                        estimate[n][e] = mTarget[0][e] + (i < width ? perRow[e * width + i] : 0);
                    }
                }
            }
            double[] mClean = dir.fromClean() ? mSource : mTarget[0], mCorrupt = dir.fromClean() ? mTarget[0] : mSource;
            return new PatchResult(List.copyOf(nodes), mClean, mCorrupt, estimate, PatchResult.validity(nodes, examples));
        }
    }
}
