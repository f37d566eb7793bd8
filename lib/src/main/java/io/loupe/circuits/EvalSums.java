package io.loupe.circuits;

import java.io.Serializable;

/**
 * Sums of the four circuit-evaluation metrics over examples, mergeable across shards; the means feed
 * {@link Circuits#faithfulness} and {@link Circuits#completeness} (averaged over examples before the ratio).
 */
public final class EvalSums implements Serializable {
    private double full;
    private double circuit;
    private double empty;
    private double complement;
    private long examples;

    public void add(CircuitEval.Metrics m) {
        for (int b = 0; b < m.full().length; b++) {
            full += m.full()[b];
            circuit += m.circuit()[b];
            empty += m.empty()[b];
            complement += m.complement()[b];
        }
        examples += m.full().length;
    }

    public EvalSums merge(EvalSums o) {
        full += o.full;
        circuit += o.circuit;
        empty += o.empty;
        complement += o.complement;
        examples += o.examples;
        return this;
    }

    public long examples() {
        return examples;
    }

    public double meanFull() {
        return full / examples;
    }

    public double meanCircuit() {
        return circuit / examples;
    }

    public double meanEmpty() {
        return empty / examples;
    }

    public double meanComplement() {
        return complement / examples;
    }

    public double faithfulness() {
        return Circuits.faithfulness(meanCircuit(), meanEmpty(), meanFull());
    }

    public double completeness() {
        return Circuits.completeness(meanComplement(), meanEmpty(), meanFull());
    }
}
