package io.loupe.circuits;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.loupe.hooks.HookKind;
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
 * matmuls stay large. {@code maxRows} bounds {@code c·B}. A chunk holds nodes of one layer l and starts
 * from the target run's {@code blocks.l.hook_resid_pre} ({@link LanguageModel#forwardFrom}): the blocks
 * before it are the same in every patched run, so a layer-l node costs (L − l) / L of a forward pass.
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
            Hooks targetHooks = new Hooks();
            for (int l = 0; l < model.config().numLayers(); l++) {
                targetHooks.capture(HookPoint.of(l, HookKind.RESID_PRE));
            }
            double[] mTarget = toDoubles(batch.metric(model.forward(batch.prompts(dir, false), targetHooks), 1));
            Integer[] order = new Integer[nodes.size()];
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            java.util.Arrays.sort(order, java.util.Comparator.comparingInt(i -> nodes.get(i).layer()));
            int chunk = Math.max(1, maxRows / b);
            for (int from = 0; from < order.length; ) {
                // A chunk holds nodes of one layer only, so it starts from that layer's resid_pre.
                int layer = nodes.get(order[from]).layer(), to = from;
                while (to < order.length && to - from < chunk && nodes.get(order[to]).layer() == layer) {
                    to++;
                }
                List<Node> part = new java.util.ArrayList<>();
                for (int j = from; j < to; j++) {
                    part.add(nodes.get(order[j]));
                }
                double[] flat = patchChunk(model, batch, dir, part, sourceHooks, targetHooks);
                for (int j = 0; j < part.size(); j++) {
                    patched[order[from + j]] = java.util.Arrays.copyOfRange(flat, j * b, (j + 1) * b);
                }
                from = to;
            }
            double[] mClean = dir.fromClean() ? mSource : mTarget, mCorrupt = dir.fromClean() ? mTarget : mSource;
            return new PatchResult(List.copyOf(nodes), mClean, mCorrupt, patched, PatchResult.validity(nodes, examples));
        }
    }

    /** One batch of {@code part.size()·B} rows, run from the first layer any of the nodes sits at; returns the metric per row. */
    private static double[] patchChunk(LanguageModel model, TaskBatch batch, Direction dir, List<Node> part, Hooks source, Hooks target) {
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
            TokenBatch rows = TaskBatch.repeat(batch.prompts(dir, false), copies, cm);
            int first = part.stream().mapToInt(Node::layer).min().orElseThrow();
            NDArray start = TaskBatch.repeatRows(target.captured(HookPoint.of(first, HookKind.RESID_PRE)), copies);
            start.attach(cm);
            return toDoubles(batch.metric(model.forwardFrom(rows, first, start, hooks), copies));
        }
    }

    static double[] toDoubles(NDArray a) {
        return a.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).toDoubleArray();
    }
}
