package io.loupe.cli;

import io.loupe.jobs.JobFiles;
import io.loupe.jobs.ModelFiles;
import io.loupe.jobs.SparkSessions;
import io.loupe.jobs.unlearn.ModelExtras;
import io.loupe.jobs.unlearn.UnlearningRows;
import io.loupe.jobs.unlearn.UnlearningScoreJob;
import io.loupe.jobs.unlearn.UnlearningScoreOutput;
import io.loupe.model.ModelConfig;
import io.loupe.model.ModelLoader;
import io.loupe.unlearn.metrics.ScoreExample;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code loupe unlearning score}: did the models truly forget? Behaviour, representations, parameters and recovery. */
@Command(name = "unlearning", mixinStandardHelpOptions = true, subcommands = UnlearningCommand.Score.class,
        description = "Unlearning evaluation; see `unlearning score --help`.")
final class UnlearningCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "score", mixinStandardHelpOptions = true,
            description = {"Scores unlearned models against the target and the retrain model (the gold standard) as Spark jobs over",
                    "(model, split, example shard): membership inference (LOSS, zlib, Min-K%, Min-K%++, reference; AUC forget vs holdout,",
                    "MUSE PrivLeak), TOFU (truth ratio, forget quality, model utility), MUSE (VerbMem, KnowMem), linear CKA per layer,",
                    "linear probes for the forget answers, ConceptVectors-style parameter traces, relearning, and with --sae the",
                    "persistence of forget features. Writes examples.parquet, summary.json, leaderboard.csv and plots/.",
                    "Options can come from @conf/unlearning.conf."})
    static final class Score implements Callable<Integer> {
        @Option(names = "--models", required = true, split = ",", description = "Unlearned model directories (any Hadoop URI); name=DIR names one.")
        List<String> models;
        @Option(names = "--target", required = true, description = "The model before unlearning (it learned the forget set).")
        String target;
        @Option(names = "--retrain", required = true, description = "The model trained without the forget set (the gold standard).")
        String retrain;
        @Option(names = "--reference", description = "Reference model of the reference attack (default: none, the attack is skipped).")
        String reference;
        @Option(names = "--forget", required = true, description = "Forget split: JSONL or Parquet rows with id and text, prompt + gt, or QA fields.")
        String forget;
        @Option(names = "--retain", required = true, description = "Retain split.")
        String retain;
        @Option(names = "--holdout", required = true, description = "Holdout split (never trained on): the non-members.")
        String holdout;
        @Option(names = "--format", defaultValue = "auto", description = "auto, json or parquet (default: ${DEFAULT-VALUE}).")
        String format;
        @Option(names = "--min-k", defaultValue = "0.4", split = ",", description = "Min-K% ratio(s) (default: ${DEFAULT-VALUE}).")
        List<Double> minK;
        @Option(names = "--few-shot", defaultValue = "3", description = "KnowMem's in-context QA examples, from retain (default: ${DEFAULT-VALUE}).")
        int fewShot;
        @Option(names = "--max-new-tokens", defaultValue = "32", description = "Greedy tokens per answer (default: ${DEFAULT-VALUE}).")
        int maxNewTokens;
        @Option(names = "--batch-size", defaultValue = "16", description = "Sequences per forward pass (default: ${DEFAULT-VALUE}).")
        int batchSize;
        @Option(names = "--shards", defaultValue = "0", description = "Example shards per (model, split); 0 = Spark's parallelism (default: ${DEFAULT-VALUE}).")
        int shards;
        @Option(names = "--relearn-steps", defaultValue = "20", description = "Relearning steps K on a forget slice; 0 skips (default: ${DEFAULT-VALUE}).")
        int relearnSteps;
        @Option(names = "--relearn-lr", defaultValue = "1e-3", description = "Relearning learning rate (default: ${DEFAULT-VALUE}).")
        double relearnLr;
        @Option(names = "--concept-top", defaultValue = "200", description = "Top tokens of a value vector's projection (default: ${DEFAULT-VALUE}).")
        int conceptTop;
        @Option(names = "--probe-folds", defaultValue = "5", description = "Cross-validation folds over forget QA rows (default: ${DEFAULT-VALUE}).")
        int probeFolds;
        @Option(names = "--probe-ridge", defaultValue = "0.01", description = "Ridge strength of the probes, relative (default: ${DEFAULT-VALUE}).")
        double probeRidge;
        @Option(names = "--sae", description = "A `loupe fit` dictionary checkpoint (trained on the target) for feature persistence.")
        String sae;
        @Option(names = "--device", defaultValue = "auto", description = "cpu, gpu, gpu:N or auto (default: ${DEFAULT-VALUE}).")
        String device;
        @Option(names = "--master", description = "Spark master; default: spark-submit's, else " + SparkSessions.LOCAL_DEFAULT + ".")
        String master;
        @Option(names = "--out", required = true, description = "Output folder: examples.parquet, summary.json, leaderboard.csv, plots/.")
        String out;

        @Override
        public Integer call() throws Exception {
            if (batchSize < 1 || maxNewTokens < 1 || fewShot < 0 || relearnSteps < 0 || conceptTop < 1 || probeFolds < 2) {
                throw new IllegalArgumentException("--batch-size, --max-new-tokens and --concept-top must be >= 1, --probe-folds >= 2, the rest >= 0");
            }
            SparkSession spark = SparkSessions.getOrCreate("loupe unlearning score", master);
            Configuration hconf = spark.sparkContext().hadoopConfiguration();
            List<String> names = new ArrayList<>(), uris = new ArrayList<>();
            String targetUri = add(names, uris, "target=" + target, hconf), retrainUri = add(names, uris, "retrain=" + retrain, hconf);
            for (String m : models) {
                add(names, uris, m, hconf);
            }
            String referenceUri = reference == null ? null : JobFiles.qualify(reference, hconf);
            checkSameTokenizer(uris, referenceUri, hconf);
            Map<String, List<ScoreExample>> splits = new LinkedHashMap<>();
            splits.put("forget", UnlearningRows.read(spark, JobFiles.qualify(forget, hconf), format, "forget"));
            splits.put("retain", UnlearningRows.read(spark, JobFiles.qualify(retain, hconf), format, "retain"));
            splits.put("holdout", UnlearningRows.read(spark, JobFiles.qualify(holdout, hconf), format, "holdout"));
            UnlearningRows.requireDisjoint(splits.get("forget"), splits.get("retain"), "retain");
            UnlearningRows.requireDisjoint(splits.get("forget"), splits.get("holdout"), "holdout");
            UnlearningScoreJob.Settings s = new UnlearningScoreJob.Settings(minK.stream().mapToDouble(Double::doubleValue).toArray(), fewShot, batchSize,
                    maxNewTokens, shards > 0 ? shards : spark.sparkContext().defaultParallelism(), relearnSteps, relearnLr, conceptTop,
                    sae == null ? null : JobFiles.qualify(sae, hconf), probeFolds, probeRidge, device);
            UnlearningScoreJob.Models ms = new UnlearningScoreJob.Models(names, uris, targetUri, retrainUri, referenceUri);
            String qualifiedOut = JobFiles.qualify(out, hconf);
            Console.info(String.format("unlearning score: %d models x (%d forget, %d retain, %d holdout) examples in %d shards -> %s", names.size(),
                    splits.get("forget").size(), splits.get("retain").size(), splits.get("holdout").size(), s.shards(), out));
            long start = System.nanoTime();
            List<UnlearningScoreJob.Shard> shardResults = UnlearningScoreJob.examples(spark, ms, splits, s);
            List<ModelExtras> extras = UnlearningScoreJob.extras(spark, ms, splits, s);
            Map<String, Object> settings = new LinkedHashMap<>();
            settings.put("target", target);
            settings.put("retrain", retrain);
            settings.put("reference", reference);
            settings.put("min_k", minK);
            settings.put("cka_rows", "tokens: every real token of the split's texts; examples: each text's tokens mean-pooled");
            settings.put("utility_components", "retain answer probability, ROUGE-L recall of the greedy answer (no stemming), max(0, 1 - R)");
            settings.put("seconds", (System.nanoTime() - start) / 1e9);
            Map<String, Map<String, Object>> summaries = UnlearningScoreOutput.write(spark, qualifiedOut, ms, splits, shardResults, extras, s, settings);
            Console.info(String.format("unlearning score: %-28s %8s %8s %9s %8s %8s %9s %8s", "model", "forgetQ", "utility", "privleak", "verbmem",
                    "knowmem", "nll_fgt", "relearn"));
            for (var e : summaries.entrySet()) {
                Map<String, Object> m = e.getValue();
                Console.info(String.format("unlearning score: %-28s %8.3g %8.3f %9.1f %8.3f %8.3f %9.3f %8s", e.getKey(), (Double) m.get("forget_quality"),
                        (Double) m.get("model_utility"), (Double) m.get("privleak"), (Double) m.get("verbmem_f1"), (Double) m.get("knowmem_f1_forget"),
                        (Double) m.get("nll_forget"), String.valueOf(m.getOrDefault("relearn_steps", "-"))));
            }
            Console.info(String.format("unlearning score: %.1f s; wrote %s/examples.parquet, summary.json, leaderboard.csv, plots/",
                    (System.nanoTime() - start) / 1e9, out));
            return 0;
        }

        /** Adds {@code [name=]DIR}, its name defaulting to the folder name; names must be unique. */
        private static String add(List<String> names, List<String> uris, String spec, Configuration conf) throws java.io.IOException {
            int eq = spec.indexOf('=');
            String dir = eq > 0 ? spec.substring(eq + 1) : spec;
            String uri = JobFiles.qualify(dir, conf);
            String name = eq > 0 ? spec.substring(0, eq) : new org.apache.hadoop.fs.Path(uri).getName();
            if (uris.contains(uri)) {
                return uri;
            }
            if (names.contains(name)) {
                throw new IllegalArgumentException("two models are named '" + name + "'; name them with name=DIR");
            }
            names.add(name);
            uris.add(uri);
            return uri;
        }

        /** Every model must read text as the target does: same vocabulary size and the same tokenizer.json. */
        private static void checkSameTokenizer(List<String> uris, String reference, Configuration conf) throws java.io.IOException {
            List<String> all = new ArrayList<>(uris);
            if (reference != null) {
                all.add(reference);
            }
            java.nio.file.Path first = ModelFiles.local(all.get(0), conf);
            ModelConfig c0 = ModelLoader.inspect(first);
            byte[] tok0 = tokenizerBytes(first, all.get(0));
            for (String u : all.subList(1, all.size())) {
                java.nio.file.Path dir = ModelFiles.local(u, conf);
                ModelConfig c = ModelLoader.inspect(dir);
                if (c.vocabSize() != c0.vocabSize()) {
                    throw new IllegalArgumentException(u + " has a vocabulary of " + c.vocabSize() + " tokens, the target " + c0.vocabSize()
                            + ": unlearning is scored between models of one tokenizer");
                }
                if (!Arrays.equals(tok0, tokenizerBytes(dir, u))) {
                    throw new IllegalArgumentException(u + "/tokenizer.json differs from the target's: unlearning is scored between models of one tokenizer");
                }
            }
        }

        private static byte[] tokenizerBytes(java.nio.file.Path dir, String uri) throws java.io.IOException {
            java.nio.file.Path t = dir.resolve("tokenizer.json");
            if (!Files.isRegularFile(t)) {
                throw new IllegalArgumentException(uri + " has no tokenizer.json: the splits are text");
            }
            return Files.readAllBytes(t);
        }
    }
}
