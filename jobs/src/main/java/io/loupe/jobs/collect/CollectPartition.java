package io.loupe.jobs.collect;

import io.loupe.collect.ActivationCollector;
import io.loupe.collect.ActivationRow;
import io.loupe.collect.Example;
import io.loupe.collect.Packing;
import io.loupe.forward.Prompt;
import io.loupe.jobs.ExecutorModels;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * One Spark partition of prompts (sorted by id) to activation rows: tokenise, truncate or pack, then
 * run the executor's shared model through {@link ActivationCollector}. Output depends only on the
 * partition's content, so a retried task writes exactly what the failed attempt would have.
 */
final class CollectPartition implements MapPartitionsFunction<Row, Row> {
    private static final Logger LOG = LoggerFactory.getLogger(CollectPartition.class);
    private static final long LOG_EVERY_NANOS = 30_000_000_000L;
    static final String TOKENS_ACCUMULATOR = "loupe.tokens";

    /** Accumulators the driver reads for progress and the time split. */
    record Counters(LongAccumulator examples, LongAccumulator tokens, LongAccumulator rows, LongAccumulator forwardNanos,
                    LongAccumulator encodeNanos) implements java.io.Serializable {
    }

    private final CollectOptions options;
    private final Counters counters;

    CollectPartition(CollectOptions options, Counters counters) {
        this.options = options;
        this.counters = counters;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> input) {
        ExecutorModels.Loaded loaded = ExecutorModels.get(options.model(), ExecutorModels.taskDevice(options.device()));
        long start = System.nanoTime();   // after the once-per-JVM model load, which is not this task's cost
        List<Example> docs = new ArrayList<>();
        while (input.hasNext()) {
            Row r = input.next();
            long[] ids = r.isNullAt(2) ? null : r.<Long>getList(2).stream().mapToLong(Long::longValue).toArray();
            Prompt p = new Prompt(r.getString(0), ids == null ? r.getString(1) : null, ids);   // token_ids win, as in forward
            docs.add(new Example(p.id(), p.tokens(loaded.tokenizer(), loaded.model().config().vocabSize())));
        }
        List<Example> examples = options.packing() ? Packing.pack(docs, options.contextSize()) : Packing.truncate(docs, options.maxSeqLen());
        ActivationCollector collector = new ActivationCollector(loaded.model(), options.hookPoints(), options.dtype(), options.batchSize(),
                options.topK());
        Iterator<ActivationRow> rows = collector.collect(examples);
        TaskContext tc = TaskContext.get();
        boolean injectFailure = tc != null && tc.partitionId() == options.failOncePartition() && tc.attemptNumber() == 0;
        long total = examples.stream().mapToLong(e -> e.tokens().length).sum() * options.hooks().size();
        boolean topK = options.topK() > 0;
        return new Iterator<>() {
            private long emitted;
            private long lastLog = System.nanoTime();
            private boolean reported;

            @Override
            public boolean hasNext() {
                boolean more = rows.hasNext();
                if (!more && !reported) {
                    reported = true;
                    counters.examples().add(examples.size());
                    counters.tokens().add(collector.tokens());
                    counters.rows().add(emitted);
                    counters.forwardNanos().add(collector.forwardNanos());
                    counters.encodeNanos().add(collector.encodeNanos());
                }
                return more;
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                if (injectFailure && emitted == total / 2) {
                    throw new IllegalStateException("injected failure (--fail-once-partition " + options.failOncePartition()
                            + ") after " + emitted + " rows");
                }
                emitted++;
                long now = System.nanoTime();
                if (now - lastLog > LOG_EVERY_NANOS) {
                    lastLog = now;
                    double s = (now - start) / 1e9;
                    LOG.info(String.format("partition %d: %d/%d rows, %.0f rows/s, ETA %.0f s", tc == null ? -1 : tc.partitionId(),
                            emitted, total, emitted / s, (total - emitted) / Math.max(emitted / s, 1e-9)));
                }
                return CollectSchema.toRow(rows.next(), topK);
            }
        };
    }
}
