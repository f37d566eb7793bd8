package io.loupe.jobs.circuits;

import io.loupe.circuits.Ablation;
import io.loupe.circuits.Direction;
import io.loupe.circuits.Method;
import io.loupe.circuits.NodeType;

import java.io.Serializable;
import java.util.List;
import java.util.Set;

/**
 * What a circuits run computes; validated at construction.
 *
 * @param model      model directory (any Hadoop URI)
 * @param task       task name for outputs (induction, ioi or the file name)
 * @param methods    patch and/or attrib
 * @param direction  denoise (clean into corrupt) or noise (corrupt into clean)
 * @param nodeTypes  which nodes to score: resid_pre positions, attn_out, mlp_out, heads
 * @param batchSize  examples per batch
 * @param maxRows    bound on sequences per forward pass in activation patching (nodes × examples)
 * @param partitions example shards, one Spark task each
 * @param topN       circuit size when chosen by top-n (ignored when {@code threshold} is set)
 * @param threshold  |score| threshold for the circuit, or NaN to use {@code topN}
 * @param ablation   what nodes outside the circuit become: mean (over the corrupted prompts), zero or resample
 * @param device     cpu, gpu, gpu:N or auto when Spark assigns no GPU
 */
public record CircuitsSettings(String model, String task, Set<Method> methods, Direction direction, List<NodeType> nodeTypes,
                               int batchSize, int maxRows, int partitions, int topN, double threshold, Ablation ablation,
                               String device) implements Serializable {
    public CircuitsSettings {
        if (methods.isEmpty()) {
            throw new IllegalArgumentException("at least one method (patch, attrib)");
        }
        if (nodeTypes.isEmpty()) {
            throw new IllegalArgumentException("at least one node type (resid_pre, attn_out, mlp_out, head)");
        }
        if (batchSize < 1 || maxRows < 1 || partitions < 1) {
            throw new IllegalArgumentException("batch size, max rows and partitions must be >= 1");
        }
        if (topN < 0) {
            throw new IllegalArgumentException("top-n must be >= 0");
        }
        if (!Double.isNaN(threshold) && threshold < 0) {
            throw new IllegalArgumentException("threshold must be >= 0");
        }
    }

    /** The method whose scores choose the circuit: exact patching when it ran. */
    public Method primary() {
        return methods.contains(Method.PATCH) ? Method.PATCH : Method.ATTRIB;
    }
}
