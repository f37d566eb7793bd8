package io.loupe.circuits;

import io.loupe.hooks.HookPoint;
import io.loupe.model.LanguageModel;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One shard of examples through the circuit methods, batch by batch, returning sums that merge exactly
 * across shards. What a Spark task runs; also usable alone.
 */
public final class ShardScoring {
    private static final long LOG_EVERY_NANOS = 30_000_000_000L;

    private ShardScoring() {
    }

    /** Node-score sums per method. */
    public record Sums(Map<Method, ScoreSums> byMethod) implements Serializable {
        public Sums merge(Sums o) {
            o.byMethod.forEach((k, v) -> byMethod.merge(k, v, ScoreSums::merge));
            return this;
        }
    }

    /** Scores {@code nodes} by each of {@code methods} over the shard. */
    public static Sums score(LanguageModel model, Iterator<TaskExample> examples, List<Node> nodes, Set<Method> methods, Direction dir,
                             int batchSize, int maxRows, Consumer<String> log) {
        Map<Method, ScoreSums> sums = new EnumMap<>(Method.class);
        methods.forEach(m -> sums.put(m, new ScoreSums()));
        forEachBatch(examples, batchSize, log, batch -> {
            for (Method m : methods) {
                PatchResult r = m == Method.PATCH ? ActivationPatching.run(model, batch, nodes, dir, maxRows)
                        : AttributionPatching.run(model, batch, nodes, dir);
                sums.get(m).add(r, dir);
            }
        });
        return new Sums(sums);
    }

    /** Per-position sums of the corrupted runs at {@code points}, for mean ablation. */
    public static AblationMeans means(LanguageModel model, Iterator<TaskExample> examples, Set<HookPoint> points, int batchSize,
                                      Consumer<String> log) {
        AblationMeans means = new AblationMeans();
        forEachBatch(examples, batchSize, log, batch -> {
            means.add(model, batch, points);
        });
        return means;
    }

    /** The four circuit-evaluation metrics summed over the shard. */
    public static EvalSums evaluate(LanguageModel model, Iterator<TaskExample> examples, List<Node> components, Set<Node> circuit,
                                    Ablation ablation, AblationMeans means, int batchSize, Consumer<String> log) {
        EvalSums sums = new EvalSums();
        forEachBatch(examples, batchSize, log, batch -> {
            sums.add(CircuitEval.run(model, batch, components, circuit, ablation, means));
        });
        return sums;
    }

    /** Runs {@code fn} on consecutive batches, logging examples/s every 30 s. */
    private static void forEachBatch(Iterator<TaskExample> examples, int batchSize, Consumer<String> log, Consumer<List<TaskExample>> fn) {
        long start = System.nanoTime(), lastLog = start, done = 0;
        List<TaskExample> batch = new ArrayList<>();
        while (examples.hasNext()) {
            batch.add(examples.next());
            if (batch.size() == batchSize || !examples.hasNext()) {
                fn.accept(batch);
                done += batch.size();
                batch = new ArrayList<>();
                long now = System.nanoTime();
                if (now - lastLog > LOG_EVERY_NANOS) {
                    log.accept(String.format("%d examples, %.2f examples/s", done, done / ((now - start) / 1e9)));
                    lastLog = now;
                }
            }
        }
    }
}
