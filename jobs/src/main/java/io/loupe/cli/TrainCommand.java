package io.loupe.cli;

import com.google.gson.JsonObject;
import io.loupe.jobs.JobFiles;
import io.loupe.jobs.SparkSessions;
import io.loupe.jobs.train.ModelSource;
import io.loupe.jobs.train.TrainOutput;
import io.loupe.jobs.train.TrainRun;
import io.loupe.jobs.train.TrainSweepJob;
import io.loupe.model.MlpActivation;
import io.loupe.model.ModelConfig;
import io.loupe.train.ActivationL1;
import io.loupe.train.CheckpointSchedule;
import io.loupe.train.TrainConfig;
import io.loupe.train.TrainData;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code loupe train}: pre-trains a Llama-family model from a random init or fine-tunes one, as a sweep of Spark
 * tasks (every list-valued option spans a grid), each writing a series of Hugging Face checkpoints.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Pre-trains (--init CONFIG.json) or fine-tunes (--model DIR) language models on a corpus: JSONL or Parquet rows",
                "with text or token_ids (packed into --context-size windows) or question + answer (trained on the answer only).",
                "AdamW with warm-up and cosine decay, gradient clipping and accumulation. Comma lists of --lr, --seed,",
                "--hidden-act and --activation-l1 span a grid, one Spark task per run. Each run writes checkpoints as",
                "Hugging Face directories OUT/<run>/step<N> (config.json with tokens_seen) that every command loads; the",
                "driver writes runs.parquet, summary.json and plots/loss.png. A killed run resumes from its last state.",
                "Options can come from a file: @conf/train.conf."})
final class TrainCommand implements Callable<Integer> {
    static final class Source {
        @Option(names = "--init", description = "A Hugging Face config.json to pre-train from a random init (N(0, 0.02), seeded).")
        Path init;
        @Option(names = "--model", description = "A model directory (any Hadoop URI) to fine-tune.")
        String model;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;
    @Option(names = "--tokenizer", description = "Directory with tokenizer.json for text corpora (default: the --model directory).")
    String tokenizer;
    @Option(names = "--corpus", required = true, description = "JSONL or Parquet rows (any Hadoop URI): id and text, token_ids, or question + answer.")
    String corpus;
    @Option(names = "--format", defaultValue = "auto", description = "auto, json or parquet (default: ${DEFAULT-VALUE}).")
    String format;
    @Option(names = "--context-size", defaultValue = "256", description = "Tokens per packed window (default: ${DEFAULT-VALUE}).")
    int contextSize;
    @Option(names = "--batch-size", defaultValue = "16", description = "Sequences per micro-batch (default: ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--grad-accum", defaultValue = "1", description = "Micro-batches per optimizer step (default: ${DEFAULT-VALUE}).")
    int gradAccum;
    @Option(names = "--steps", description = "Optimizer steps (default 1000 unless --tokens is given).")
    Integer steps;
    @Option(names = "--tokens", description = "Training tokens instead of --steps: steps = ceil(tokens / (batch x accumulation x context)).")
    Long tokens;
    @Option(names = "--lr", defaultValue = "3e-4", split = ",", description = "Peak learning rate(s) (default: ${DEFAULT-VALUE}).")
    List<Double> lrs;
    @Option(names = "--min-lr-ratio", defaultValue = "0.1", description = "Cosine decay ends at lr x this (default: ${DEFAULT-VALUE}).")
    double minLrRatio;
    @Option(names = "--warmup", defaultValue = "-1", description = "Warm-up steps; -1 = 2% of the steps (default: ${DEFAULT-VALUE}).")
    int warmup;
    @Option(names = "--weight-decay", defaultValue = "0.1", description = "AdamW decoupled decay, on matrices and embeddings (default: ${DEFAULT-VALUE}).")
    double weightDecay;
    @Option(names = "--beta1", defaultValue = "0.9", description = "AdamW beta1 (default: ${DEFAULT-VALUE}).")
    double beta1;
    @Option(names = "--beta2", defaultValue = "0.95", description = "AdamW beta2 (default: ${DEFAULT-VALUE}).")
    double beta2;
    @Option(names = "--clip", defaultValue = "1.0", description = "Global gradient-norm clipping; 0 = off (default: ${DEFAULT-VALUE}).")
    double clip;
    @Option(names = "--seed", defaultValue = "0", split = ",", description = "Seed(s) of init and data order (default: ${DEFAULT-VALUE}).")
    List<Long> seeds;
    @Option(names = "--hidden-act", split = ",", description = "MLP activation(s): silu, relu, gelu, gelu_pytorch_tanh (default: the source's).")
    List<String> hiddenActs;
    @Option(names = "--activation-l1", split = ",", description = {"ProSparse L1 on mlp.hook_post: stage factors separated by colons,",
            "e.g. 1e-4:5e-4:1e-3 (each stage rises to its factor); commas give a grid. Default: none."})
    List<String> activationL1;
    @Option(names = "--checkpoints", defaultValue = "1", description = "Checkpoints at this many log-spaced token counts, the last at the end (default: ${DEFAULT-VALUE}).")
    int checkpoints;
    @Option(names = "--checkpoint-tokens", split = ",", description = "Explicit token counts for checkpoints instead (the end is always one).")
    List<Long> checkpointTokens;
    @Option(names = "--eval-fraction", defaultValue = "0.02", description = "Share of sequences held out for the held-out loss (default: ${DEFAULT-VALUE}).")
    double evalFraction;
    @Option(names = "--eval-every", defaultValue = "0", description = "Held-out loss every N steps; 0 = at checkpoints and the end only (default: ${DEFAULT-VALUE}).")
    int evalEvery;
    @Option(names = "--eval-sequences", defaultValue = "0", description = "Held-out sequences per evaluation; 0 = all (default: ${DEFAULT-VALUE}).")
    int evalSequences;
    @Option(names = "--state-every", defaultValue = "0", description = "Steps between saved training states; 0 = a tenth of the steps (default: ${DEFAULT-VALUE}).")
    int stateEvery;
    @Option(names = "--log-every", defaultValue = "0", description = "A progress line every N steps; 0 = 20 lines a run (default: ${DEFAULT-VALUE}).")
    int logEvery;
    @Option(names = "--split-seed", defaultValue = "0", description = "Seed of the held-out split, shared by every run (default: ${DEFAULT-VALUE}).")
    long splitSeed;
    @Option(names = "--device", defaultValue = "auto", description = "cpu, gpu, gpu:N or auto, for tasks Spark assigned no GPU (default: ${DEFAULT-VALUE}).")
    String device;
    @Option(names = "--fail-once-at-step", defaultValue = "-1", hidden = true, description = "Fault injection for tests.")
    int failOnceAtStep;
    @Option(names = "--master", description = "Spark master; default: spark-submit's, else " + SparkSessions.LOCAL_DEFAULT + ".")
    String master;
    @Option(names = "--out", required = true, description = "Output folder: <run>/step<N> checkpoints, runs.parquet, summary.json, plots/.")
    String out;

    @Override
    public Integer call() throws Exception {
        if (steps != null && tokens != null) {
            throw new IllegalArgumentException("give --steps or --tokens, not both");
        }
        if (contextSize < 2 || batchSize < 1 || gradAccum < 1 || checkpoints < 1) {
            throw new IllegalArgumentException("--context-size must be >= 2; --batch-size, --grad-accum and --checkpoints >= 1");
        }
        String initJson = source.init == null ? null : readInit(source.init);
        ModelSource src = new ModelSource(initJson, source.model, tokenizer != null ? tokenizer : source.model);
        SparkSession spark = SparkSessions.getOrCreate("loupe train", master);
        Configuration hconf = spark.sparkContext().hadoopConfiguration();
        src = new ModelSource(initJson, source.model == null ? null : JobFiles.qualify(source.model, hconf),
                src.tokenizerUri() == null ? null : JobFiles.qualify(src.tokenizerUri(), hconf));
        ModelConfig cfg = src.config(hconf);
        List<MlpActivation> acts = new ArrayList<>();
        for (String a : hiddenActs == null ? List.<String>of() : hiddenActs) {
            acts.add(MlpActivation.parse(a));
        }
        if (acts.isEmpty()) {
            acts.add(null);
        }
        List<String> l1s = activationL1 == null ? List.of("") : activationL1;
        int totalSteps = steps != null ? steps
                : tokens != null ? (int) Math.max(1, (tokens + (long) batchSize * gradAccum * contextSize - 1) / ((long) batchSize * gradAccum * contextSize))
                : 1000;

        TrainOutput.clear(hconf, JobFiles.qualify(out, hconf));
        Console.info("train: reading and tokenising " + corpus);
        TrainSweepJob.Encoded encoded = TrainSweepJob.encode(spark, JobFiles.qualify(corpus, hconf), format, src, cfg);
        TrainData data = TrainData.build(encoded.documents(), encoded.qa(), contextSize, evalFraction, splitSeed);
        Console.info(String.format("train: %d training sequences (%d tokens), %d held out", data.train().size(),
                data.train().stream().mapToLong(s -> s.ids().length).sum(), data.heldOut().size()));

        List<TrainRun> runs = new ArrayList<>();
        for (MlpActivation act : acts) {
            for (String l1 : l1s) {
                for (double lr : lrs) {
                    for (long seed : seeds) {
                        TrainConfig c = new TrainConfig(lr, minLrRatio, warmup >= 0 ? warmup : totalSteps / 50, weightDecay, beta1, beta2, 1e-8, clip,
                                batchSize, gradAccum, totalSteps, seed, evalEvery, evalSequences, stateEvery > 0 ? stateEvery : Math.max(1, totalSteps / 10),
                                checkpointSteps(data, seed, totalSteps), ActivationL1.parse(l1, totalSteps));
                        runs.add(TrainRun.series(TrainRun.nameOf(act, lr, seed, l1), act, l1, c));
                    }
                }
            }
        }
        Console.info("train: " + runs.size() + " run(s) of " + totalSteps + " steps as Spark tasks -> " + out);
        long start = System.nanoTime();
        List<JsonObject> results = TrainSweepJob.run(spark, src, runs, java.util.Map.of("corpus", data),
                new TrainSweepJob.Settings(device, logEvery > 0 ? logEvery : Math.max(1, totalSteps / 20), failOnceAtStep), out);
        JsonObject settings = new JsonObject();
        settings.addProperty("source", source.init != null ? "init " + source.init : "model " + source.model);
        settings.addProperty("corpus", corpus);
        settings.addProperty("context_size", contextSize);
        settings.addProperty("batch_size", batchSize);
        settings.addProperty("grad_accum", gradAccum);
        settings.addProperty("steps", totalSteps);
        TrainOutput.write(spark, "train", JobFiles.qualify(out, hconf), results, data, settings);
        for (JsonObject r : results) {
            Console.info("train: " + TrainOutput.describe(r));
        }
        Console.info(String.format("train: %d run(s) in %.1f s; %s/runs.parquet, summary.json, plots/loss.png", runs.size(),
                (System.nanoTime() - start) / 1e9, out));
        return 0;
    }

    private int[] checkpointSteps(TrainData data, long seed, int totalSteps) {
        long[] perStep = data.tokensPerStep(seed, totalSteps, gradAccum, batchSize);
        if (checkpointTokens != null && !checkpointTokens.isEmpty()) {
            return CheckpointSchedule.atTokens(perStep, checkpointTokens.stream().mapToLong(Long::longValue).toArray());
        }
        return CheckpointSchedule.logSpaced(perStep, checkpoints);
    }

    private static String readInit(Path init) throws java.io.IOException {
        if (!Files.isRegularFile(init)) {
            throw new IllegalArgumentException(init + ": --init config does not exist");
        }
        return Files.readString(init);
    }
}
