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
 * Runs the clean prompts four ways in one batch of {@code 4·B} rows and reads the metric of each:
 * the full model M (nothing ablated), the circuit C (every component outside C ablated), the empty
 * circuit ∅ (every component ablated) and the complement M∖C (the components of C ablated).
 * Components are heads, whole attention outputs and MLP outputs; residual positions are not components.
 */
public final class CircuitEval {
    /** Per-example metrics of the four runs, each {@code [B]}. */
    public record Metrics(double[] full, double[] circuit, double[] empty, double[] complement) {
    }

    private CircuitEval() {
    }

    /**
     * @param components every component that may be ablated (the universe of the circuit)
     * @param circuit    the components kept in C, a subset of {@code components}
     * @param means      per-position means over the corrupted prompts; needed for {@link Ablation#MEAN} only
     */
    public static Metrics run(LanguageModel model, List<TaskExample> examples, List<Node> components, Set<Node> circuit,
                              Ablation ablation, AblationMeans means) {
        for (Node n : components) {
            if (n.type() == NodeType.RESID_POS) {
                throw new IllegalArgumentException("circuit components are heads, attn_out and mlp_out; " + n + " is a residual position");
            }
        }
        if (!components.containsAll(circuit)) {
            throw new IllegalArgumentException("the circuit has nodes outside the component set");
        }
        int b = examples.size();
        Set<HookPoint> points = new LinkedHashSet<>();
        components.forEach(n -> points.add(n.hook()));
        try (NDManager m = model.manager().newSubManager()) {
            TaskBatch batch = TaskBatch.of(m, examples);
            int seq = batch.clean().seqLen();
            Hooks corrupt = new Hooks().capture(points);
            if (ablation == Ablation.RESAMPLE) {
                model.forward(batch.corrupt(), corrupt);
            }
            Map<HookPoint, SliceMask> masks = new LinkedHashMap<>();
            for (Node n : components) {
                int width = n.type() == NodeType.HEAD ? model.config().numHeads() : seq;
                SliceMask mask = masks.computeIfAbsent(n.hook(), p -> new SliceMask(n.type(), 4 * b, width));
                mask.mark(n, circuit.contains(n) ? 2 * b : b, b);      // row group 1 (C) ablates outside C; 3 (M∖C) ablates C
                mask.mark(n, circuit.contains(n) ? 3 * b : 2 * b, b);  // row group 2 (∅) ablates all
            }
            Hooks hooks = new Hooks();
            for (var e : masks.entrySet()) {
                NDArray mask = e.getValue().toArray(m, model.dataType());
                NDArray value = switch (ablation) {
                    case ZERO -> m.zeros(new ai.djl.ndarray.types.Shape(1), model.dataType());
                    case MEAN -> {
                        if (means == null) {
                            throw new IllegalArgumentException("mean ablation needs the corrupted-prompt means");
                        }
                        yield means.mean(e.getKey(), seq, m, model.dataType());
                    }
                    case RESAMPLE -> TaskBatch.repeatRows(corrupt.captured(e.getKey()), 4);
                };
                hooks.replace(e.getKey(), SliceMask.blend(mask, value));
            }
            TokenBatch rows = TaskBatch.repeat(batch.clean(), 4, m);
            double[] all = ActivationPatching.toDoubles(batch.metric(model.forward(rows, hooks), 4));
            return new Metrics(java.util.Arrays.copyOfRange(all, 0, b), java.util.Arrays.copyOfRange(all, b, 2 * b),
                    java.util.Arrays.copyOfRange(all, 2 * b, 3 * b), java.util.Arrays.copyOfRange(all, 3 * b, 4 * b));
        }
    }
}
