package io.loupe.cli;

import io.loupe.collect.ValueDtype;
import io.loupe.jobs.SparkSessions;
import io.loupe.jobs.collect.CollectJob;
import io.loupe.jobs.collect.CollectOptions;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.Arrays;
import java.util.concurrent.Callable;

/** {@code loupe collect}: the Spark job that writes activation datasets. */
@Command(name = "collect", mixinStandardHelpOptions = true,
        description = {"Shards prompts across Spark executors and writes activations at hook points to Parquet, partitioned by hook.",
                "Options can also come from a file: scripts/loupe collect @conf/collect.conf [more options]."})
final class CollectCommand implements Callable<Integer> {
    @Option(names = "--input", required = true, description = "Prompts: JSONL or Parquet with id and text or token_ids; any Hadoop URI.")
    String input;
    @Option(names = "--input-format", defaultValue = "auto", description = "json, parquet or auto (default: ${DEFAULT-VALUE}).")
    String inputFormat;
    @Option(names = "--model", required = true, description = "Hugging Face model directory; any Hadoop URI.")
    String model;
    @Option(names = "--hooks", required = true, split = ",", description = "Hook points, comma-separated.")
    String[] hooks;
    @Option(names = "--out", required = true, description = "Output dataset root.")
    String out;
    @Option(names = "--dtype", defaultValue = "float32", description = "float32, bfloat16 or float16 (default: ${DEFAULT-VALUE}).")
    String dtype;
    @Option(names = "--batch-size", defaultValue = "8", description = "Sequences per forward pass (default: ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--max-seq-len", defaultValue = "1024", description = "Keep each document's first N tokens; 0 keeps all (default: ${DEFAULT-VALUE}).")
    int maxSeqLen;
    @Option(names = "--context-size", defaultValue = "0", description = "Pack documents into windows of N tokens; 0 is off (default).")
    int contextSize;
    @Option(names = "--top-k", defaultValue = "0", description = "Also store the top-k next-token logits per row (default: off).")
    int topK;
    @Option(names = "--partitions", defaultValue = "0", description = "Partitions per chunk; 0 uses Spark's default parallelism.")
    int partitions;
    @Option(names = "--chunk-size", defaultValue = "50000", description = "Documents per committed chunk (default: ${DEFAULT-VALUE}).")
    long chunkSize;
    @Option(names = "--mode", defaultValue = "error", description = "error, overwrite or resume, for an existing output (default: ${DEFAULT-VALUE}).")
    String mode;
    @Option(names = "--device", defaultValue = "auto", description = "Where Spark assigns no GPU: cpu, gpu, gpu:N or auto (default: ${DEFAULT-VALUE}).")
    String device;
    @Option(names = "--compression", defaultValue = "auto", description = "auto (none for float32, zstd for 16-bit), zstd, snappy, gzip or none (default: ${DEFAULT-VALUE}).")
    String compression;
    @Option(names = "--master", description = "Spark master; default: spark-submit's, else " + SparkSessions.LOCAL_DEFAULT + ".")
    String master;
    @Option(names = "--fail-once-partition", defaultValue = "-1", hidden = true, description = "Fault injection (tests).")
    int failOncePartition;
    @Option(names = "--stop-after-chunks", defaultValue = "-1", hidden = true, description = "Fault injection (tests).")
    int stopAfterChunks;

    @Override
    public Integer call() throws Exception {
        CollectOptions o = new CollectOptions(input, inputFormat, model, Arrays.asList(hooks), out, ValueDtype.parse(dtype), batchSize,
                maxSeqLen, contextSize, topK, partitions, chunkSize, mode, device, compression, failOncePartition, stopAfterChunks);
        SparkSession spark = SparkSessions.getOrCreate("loupe collect", master);
        CollectJob.Summary s = CollectJob.run(spark, o);
        Console.info(String.format("collect: %d examples, %d tokens, %d rows -> %s", s.examples(), s.tokens(), s.rows(), out));
        Console.info(String.format("collect: %.1f MB of Parquet, %.2f bytes per stored value (%s), %d chunk(s), %.1f s wall, %.0f tokens/s",
                s.bytes() / 1e6, s.bytesPerValue(), o.dtype().label(), s.chunks(), s.seconds(), s.tokens() / s.seconds()));
        if (s.taskSeconds() > 0) {
            double other = s.taskSeconds() - s.forwardSeconds() - s.encodeSeconds();
            Console.info(String.format("collect: task time %.1f s = forward %.0f%%, encoding %.0f%%, other %.0f%% (tokenising, Parquet"
                            + " writing, model loading)",
                    s.taskSeconds(), 100 * s.forwardSeconds() / s.taskSeconds(), 100 * s.encodeSeconds() / s.taskSeconds(),
                    100 * other / s.taskSeconds()));
        }
        Console.info("collect: skipped inputs " + (s.skipped().isEmpty() ? "none" : s.skipped())
                + (s.resumedExamples() > 0 ? "; " + s.resumedExamples() + " examples were already there (resume)" : ""));
        return 0;
    }
}
