package io.loupe.circuits;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.loupe.hooks.HookPoint;
import io.loupe.hooks.Hooks;
import io.loupe.model.LanguageModel;
import io.loupe.model.TokenBatch;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Exact activation patching: for each node, run the target prompts (corrupted when denoising, clean when
 * noising) with that node's slice replaced by its value in the source run, and read the metric.
 *
 * <p>One forward pass per node per example, batched: nodes are taken in chunks, and a chunk of c nodes
 * runs as one batch of {@code c·B} rows (row {@code j·B + b} is example b with node j patched), so the
 * matmuls stay large. {@code maxRows} bounds {@code c·B}.
 */
public final class ActivationPatching {
    private ActivationPatching() {
    }

    public static PatchResult run(LanguageModel model, List<TaskExample> examples, List<Node> nodes, Direction dir, int maxRows) {
        int b = examples.size();
        Set<HookPoint> points = new LinkedHashSet<>();
        nodes.forEach(n -> points.add(n.hook()));
        double[][] patched = new double[nodes.size()][];
        try (NDManager m = model.manager().newSubManager()) {
            TaskBatch batch = TaskBatch.of(m, examples);
            Hooks sourceHooks = new Hooks().capture(points);
            double[] mSource = toDoubles(batch.metric(model.forward(batch.prompts(dir, true), sourceHooks), 1));
            double[] mTarget = toDoubles(batch.metric(model.forward(batch.prompts(dir, false), Hooks.none()), 1));
            int chunk = Math.max(1, maxRows / b);
            for (int from = 0; from < nodes.size(); from += chunk) {
                List<Node> part = nodes.subList(from, Math.min(nodes.size(), from + chunk));
                double[] flat = patchChunk(model, batch, dir, part, sourceHooks);
                for (int j = 0; j < part.size(); j++) {
                    patched[from + j] = java.util.Arrays.copyOfRange(flat, j * b, (j + 1) * b);
                }
            }
            double[] mClean = dir.fromClean() ? mSource : mTarget, mCorrupt = dir.fromClean() ? mTarget : mSource;
            return new PatchResult(List.copyOf(nodes), mClean, mCorrupt, patched, PatchResult.validity(nodes, examples));
        }
    }

    /** One batch of {@code part.size()·B} rows; returns the metric per row. */
    private static double[] patchChunk(LanguageModel model, TaskBatch batch, Direction dir, List<Node> part, Hooks source) {
        int b = batch.size(), copies = part.size(), seq = batch.clean().seqLen();
        try (NDManager cm = model.manager().newSubManager()) {
            Map<HookPoint, SliceMask> masks = new LinkedHashMap<>();
            for (int j = 0; j < copies; j++) {
                Node n = part.get(j);
                int width = n.type() == NodeType.HEAD ? model.config().numHeads() : seq;
                masks.computeIfAbsent(n.hook(), p -> new SliceMask(n.type(), copies * b, width)).mark(n, j * b, b);
            }
            Hooks hooks = new Hooks();
            for (var e : masks.entrySet()) {
                NDArray src = TaskBatch.repeatRows(source.captured(e.getKey()), copies);
                src.attach(cm);
                hooks.replace(e.getKey(), SliceMask.blend(e.getValue().toArray(cm, model.dataType()), src));
            }
            TokenBatch target = TaskBatch.repeat(batch.prompts(dir, false), copies, cm);
            return toDoubles(batch.metric(model.forward(target, hooks), copies));
        }
    }

    static double[] toDoubles(NDArray a) {
        return a.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).toDoubleArray();
    }
}
