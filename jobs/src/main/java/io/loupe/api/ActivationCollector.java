package io.loupe.api;

import io.loupe.collect.ValueDtype;
import io.loupe.jobs.collect.CollectJob;
import io.loupe.jobs.collect.CollectOptions;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

import java.io.IOException;
import java.util.List;

/**
 * Activations of a prompt DataFrame as a DataFrame, in Spark ML's style (setters, then {@code transform}):
 * <pre>
 *   Dataset&lt;Row&gt; acts = new ActivationCollector().setModel("models/stories260k")
 *       .setHooks("blocks.2.hook_resid_post", "blocks.2.mlp.hook_post").transform(spark.read().json("prompts.jsonl"));
 * </pre>
 * Input: {@code id} and {@code text} and/or {@code token_ids}. Output: the rows {@code loupe collect} writes (one per real
 * token position per hook: example_id, position, token_id, layer, values, next_token_logprob, entropy, hook), with
 * {@code values} decoded to {@code array<float>}. It runs the same partition code as {@code collect}
 * ({@link CollectJob#activations}); nothing is written, so use {@code collect} for datasets that must survive the session.
 */
public final class ActivationCollector {
    private String model;
    private List<String> hooks;
    private ValueDtype dtype = ValueDtype.FLOAT32;
    private int batchSize = 8;
    private int maxSeqLen = 1024;
    private int contextSize;
    private int topK;
    private String device = "auto";

    /** The model directory (Hugging Face layout), any Hadoop URI. */
    public ActivationCollector setModel(String model) {
        this.model = model;
        return this;
    }

    /** Hook points, TransformerLens names. */
    public ActivationCollector setHooks(String... hooks) {
        this.hooks = List.of(hooks);
        return this;
    }

    /** The precision values pass through (as collect's --dtype; the output is float either way). */
    public ActivationCollector setDtype(String dtype) {
        this.dtype = ValueDtype.parse(dtype);
        return this;
    }

    /** Sequences per forward pass. */
    public ActivationCollector setBatchSize(int batchSize) {
        this.batchSize = batchSize;
        return this;
    }

    /** Keep each document's first tokens (0: all). */
    public ActivationCollector setMaxSeqLen(int maxSeqLen) {
        this.maxSeqLen = maxSeqLen;
        return this;
    }

    /** If > 0, pack documents into windows of exactly this many tokens. */
    public ActivationCollector setContextSize(int contextSize) {
        this.contextSize = contextSize;
        return this;
    }

    /** Keep the top-k next-token logits per row (0: off). */
    public ActivationCollector setTopK(int topK) {
        this.topK = topK;
        return this;
    }

    /** cpu, gpu, gpu:N or auto, where Spark assigns the task no GPU. */
    public ActivationCollector setDevice(String device) {
        this.device = device;
        return this;
    }

    /** The activation rows of {@code prompts}. */
    public Dataset<Row> transform(Dataset<?> prompts) throws IOException {
        if (model == null || hooks == null) {
            throw new IllegalStateException("setModel(…) and setHooks(…) first");
        }
        CollectOptions o = new CollectOptions("-", "auto", model, hooks, "-", dtype, batchSize, maxSeqLen, contextSize, topK, 0, 1, "error",
                device, "auto", -1, -1);
        return LoupeFrames.decodeValues(CollectJob.activations(prompts.sparkSession(), prompts.toDF(), o), dtype);
    }
}
