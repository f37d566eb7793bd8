package io.loupe.jobs.collect;

import io.loupe.collect.ValueDtype;
import io.loupe.hooks.HookPoint;

import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Everything a collect run needs; validated at construction. Shipped to executors.
 *
 * @param input             prompts: JSONL or Parquet with {@code id} and {@code text} or {@code token_ids}, any Hadoop URI
 * @param inputFormat       {@code json}, {@code parquet}, or {@code auto} (by file extension; folders are read as Parquet)
 * @param model             Hugging Face model directory, any Hadoop URI (copied to each executor once)
 * @param hooks             hook points to store (not {@code attn.hook_pattern})
 * @param out               output dataset root
 * @param dtype             stored value type; bfloat16 halves the bytes at 3 significant digits
 * @param batchSize         sequences per forward pass; larger amortises weight reads, costs memory B·T·d_mlp·4 bytes per hook
 * @param maxSeqLen         keep each document's first tokens (0: all); bounds memory and attention cost
 * @param contextSize       if > 0, concatenate documents and cut windows of exactly this many tokens (dictionary training)
 * @param topK              store the top-k next-token logits per row (0: off)
 * @param partitions        Spark partitions per commit chunk (0: the session's default parallelism)
 * @param chunkSize         documents per commit: each chunk is one Spark job, committed whole; resume restarts at chunk grain
 * @param mode              {@code error} (refuse an existing output), {@code overwrite}, or {@code resume}
 * @param device            cpu, gpu, gpu:N or auto, used where Spark assigns the task no GPU
 * @param compression       Parquet codec: auto (none for float32, whose mantissas do not compress; zstd for 16-bit types,
 *                          whose exponent bytes do), zstd, snappy, gzip or none
 * @param failOncePartition fault injection for tests: the first attempt of this partition fails mid-way (-1: off)
 * @param stopAfterChunks   fault injection for tests: stop after this many chunks, as if the driver died (-1: off)
 */
public record CollectOptions(String input, String inputFormat, String model, List<String> hooks, String out, ValueDtype dtype,
                             int batchSize, int maxSeqLen, int contextSize, int topK, int partitions, long chunkSize, String mode,
                             String device, String compression, int failOncePartition, int stopAfterChunks) implements Serializable {

    public CollectOptions {
        hooks = List.copyOf(hooks);
        hooks.forEach(HookPoint::parse);
        if (hooks.isEmpty()) {
            throw new IllegalArgumentException("--hooks: give at least one hook point");
        }
        if (batchSize < 1 || maxSeqLen < 0 || contextSize < 0 || topK < 0 || partitions < 0 || chunkSize < 1) {
            throw new IllegalArgumentException("--batch-size and --chunk-size must be >= 1; --max-seq-len, --context-size, --top-k and"
                    + " --partitions must be >= 0");
        }
        if (!List.of("error", "overwrite", "resume").contains(mode)) {
            throw new IllegalArgumentException("--mode must be error, overwrite or resume, got " + mode);
        }
        if (!List.of("auto", "json", "parquet").contains(inputFormat)) {
            throw new IllegalArgumentException("--input-format must be auto, json or parquet, got " + inputFormat);
        }
        if (!List.of("auto", "snappy", "zstd", "gzip", "none", "uncompressed").contains(compression)) {
            throw new IllegalArgumentException("--compression must be auto, zstd, snappy, gzip or none, got " + compression);
        }
    }

    /** The same options with input, model and output as fully qualified URIs, so executors resolve them as the driver does. */
    public CollectOptions qualified(org.apache.hadoop.conf.Configuration conf) throws java.io.IOException {
        return new CollectOptions(io.loupe.jobs.JobFiles.qualify(input, conf), inputFormat, io.loupe.jobs.JobFiles.qualify(model, conf), hooks, io.loupe.jobs.JobFiles.qualify(out, conf), dtype, batchSize,
                maxSeqLen, contextSize, topK, partitions, chunkSize, mode, device, compression, failOncePartition, stopAfterChunks);
    }

    public List<HookPoint> hookPoints() {
        return hooks.stream().map(HookPoint::parse).toList();
    }

    /** The Parquet codec to write with, {@code auto} resolved (measured: zstd buys float32 7% on disk for 5-8% more time). */
    public String parquetCodec() {
        if (!compression.equals("auto")) {
            return compression;
        }
        return dtype == ValueDtype.FLOAT32 ? "none" : "zstd";
    }

    public boolean packing() {
        return contextSize > 0;
    }

    /** The settings that decide the output's content: a resumed run must match them. */
    public Map<String, Object> contentSettings() {
        Map<String, Object> m = new TreeMap<>();
        m.put("model", model);
        m.put("hooks", hooks);
        m.put("dtype", dtype.label());
        m.put("max_seq_len", maxSeqLen);
        m.put("context_size", contextSize);
        m.put("top_k", topK);
        return m;
    }
}
