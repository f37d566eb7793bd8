package io.loupe.jobs.collect;

import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Driver-side progress: examples, tokens/s, rows/s and ETA, logged at most every few seconds as tasks
 * finish. Also sums Spark's own run time of the collect tasks (which, unlike anything the task can time
 * itself, includes the Parquet writer's final flush), for the time split in the summary.
 */
final class CollectProgress extends SparkListener {
    private static final Logger LOG = LoggerFactory.getLogger("io.loupe.collect");
    private static final long EVERY_NANOS = 5_000_000_000L;

    private final long totalExamples;
    private final CollectPartition.Counters counters;
    private final long start = System.nanoTime();
    private long lastLog;
    private long collectTaskMillis;

    CollectProgress(long totalExamples, CollectPartition.Counters counters) {
        this.totalExamples = totalExamples;
        this.counters = counters;
    }

    @Override
    public synchronized void onTaskEnd(SparkListenerTaskEnd taskEnd) {
        boolean collectTask = scala.collection.JavaConverters.seqAsJavaList(taskEnd.taskInfo().accumulables()).stream()
                .anyMatch(a -> a.name().isDefined() && a.name().get().equals(CollectPartition.TOKENS_ACCUMULATOR));
        if (collectTask && taskEnd.taskMetrics() != null && taskEnd.taskInfo().successful()) {
            collectTaskMillis += taskEnd.taskMetrics().executorRunTime();
        }
        long now = System.nanoTime();
        if (now - lastLog < EVERY_NANOS || counters.examples().value() == 0) {
            return;
        }
        lastLog = now;
        double s = (now - start) / 1e9;
        long ex = counters.examples().value(), tok = counters.tokens().value(), rows = counters.rows().value();
        double eta = ex == 0 ? Double.NaN : (totalExamples - ex) * s / ex;
        LOG.info(String.format("collect: %d/%d examples, %d tokens, %.0f tokens/s, %.0f rows/s, ETA %.0f s", ex, totalExamples, tok,
                tok / s, rows / s, eta));
    }

    /** Summed executor run time of the successful collect tasks so far, in seconds. */
    synchronized double collectTaskSeconds() {
        return collectTaskMillis / 1e3;
    }
}
