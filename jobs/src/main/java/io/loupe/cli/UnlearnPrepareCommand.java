package io.loupe.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.loupe.jobs.JobFiles;
import io.loupe.jobs.SparkSessions;
import io.loupe.jobs.train.ModelSource;
import io.loupe.jobs.train.TrainOutput;
import io.loupe.jobs.train.TrainRun;
import io.loupe.jobs.train.TrainSweepJob;
import io.loupe.jobs.unlearn.FactCheck;
import io.loupe.jobs.unlearn.UnlearningRows;
import io.loupe.model.ModelConfig;
import io.loupe.train.ActivationL1;
import io.loupe.train.TrainConfig;
import io.loupe.train.TrainData;
import io.loupe.unlearn.metrics.ScoreExample;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code loupe unlearn prepare}: the target (forget + retain) and the gold-standard retrain (retain only), as two Spark tasks. */
@Command(name = "prepare", mixinStandardHelpOptions = true,
        description = {"Fine-tunes the base model into OUT/target (on forget + retain) and OUT/retrain (on retain only) with the same",
                "settings, as two Spark tasks, then checks per model (base, target, retrain) the forget and retain NLL and how often",
                "the greedy answer states the fact; writes runs.parquet, summary.json (with that check) and plots/loss.png."})
final class UnlearnPrepareCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "The base model directory (any Hadoop URI).")
    String model;
    @Option(names = "--forget", required = true, description = "Forget split (JSONL or Parquet).")
    String forget;
    @Option(names = "--retain", required = true, description = "Retain split.")
    String retain;
    @Option(names = "--format", defaultValue = "auto", description = "auto, json or parquet (default: ${DEFAULT-VALUE}).")
    String format;
    @Option(names = "--context-size", defaultValue = "128", description = "Tokens per packed text window (default: ${DEFAULT-VALUE}).")
    int contextSize;
    @Option(names = "--batch-size", defaultValue = "16", description = "Sequences per step (default: ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--steps", defaultValue = "600", description = "Optimizer steps, the same for both models (default: ${DEFAULT-VALUE}).")
    int steps;
    @Option(names = "--lr", defaultValue = "3e-3", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
    double lr;
    @Option(names = "--seed", defaultValue = "0", description = "Seed of the data order (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--device", defaultValue = "auto", description = "cpu, gpu, gpu:N or auto (default: ${DEFAULT-VALUE}).")
    String device;
    @Option(names = "--master", description = "Spark master; default: spark-submit's, else " + SparkSessions.LOCAL_DEFAULT + ".")
    String master;
    @Option(names = "--out", required = true, description = "Output folder: target/, retrain/, runs.parquet, summary.json, plots/.")
    String out;

    @Override
    public Integer call() throws Exception {
        SparkSession spark = SparkSessions.getOrCreate("loupe unlearn prepare", master);
        Configuration hconf = spark.sparkContext().hadoopConfiguration();
        String base = JobFiles.qualify(model, hconf);
        ModelSource src = new ModelSource(null, base, base);
        ModelConfig cfg = src.config(hconf);
        List<ScoreExample> forgetRows = UnlearningRows.read(spark, JobFiles.qualify(forget, hconf), format, "forget");
        List<ScoreExample> retainRows = UnlearningRows.read(spark, JobFiles.qualify(retain, hconf), format, "retain");
        UnlearningRows.requireDisjoint(forgetRows, retainRows, "retain");
        TrainSweepJob.Encoded f = TrainSweepJob.encode(spark, JobFiles.qualify(forget, hconf), format, src, cfg);
        TrainSweepJob.Encoded r = TrainSweepJob.encode(spark, JobFiles.qualify(retain, hconf), format, src, cfg);
        TrainData targetData = TrainData.build(f.plus(r).documents(), f.plus(r).qa(), contextSize, 0, 0);
        TrainData retrainData = TrainData.build(r.documents(), r.qa(), contextSize, 0, 0);
        TrainConfig c = new TrainConfig(lr, 0.1, Math.max(1, steps / 20), 0.0, 0.9, 0.95, 1e-8, 1.0, batchSize, 1, steps, seed, 0, 0,
                Math.max(1, steps / 10), new int[]{steps}, ActivationL1.none(steps));
        List<TrainRun> runs = List.of(new TrainRun("target", null, "", c, "target", null, true),
                new TrainRun("retrain", null, "", c, "retrain", null, true));
        String qualifiedOut = JobFiles.qualify(out, hconf);
        TrainOutput.clear(hconf, qualifiedOut);
        Console.info(String.format("unlearn prepare: target on %d sequences (forget + retain), retrain on %d (retain only), %d steps each -> %s",
                targetData.train().size(), retrainData.train().size(), steps, out));
        List<JsonObject> results = TrainSweepJob.run(spark, src, runs, Map.of("target", targetData, "retrain", retrainData),
                new TrainSweepJob.Settings(device, Math.max(1, steps / 10), -1), out);
        JsonObject settings = new JsonObject();
        settings.addProperty("base", model);
        settings.addProperty("forget", forget);
        settings.addProperty("retain", retain);
        settings.addProperty("steps", steps);
        settings.addProperty("lr", lr);
        List<JsonObject> check = FactCheck.run(spark, List.of("base", "target", "retrain"),
                List.of(base, qualifiedOut + "/target", qualifiedOut + "/retrain"), forgetRows, retainRows);
        JsonArray facts = new JsonArray();
        check.forEach(facts::add);
        settings.add("fact_check", facts);
        TrainOutput.write(spark, "unlearn prepare", qualifiedOut, results, targetData, settings);
        for (JsonObject o : check) {
            Console.info(String.format("unlearn prepare: %-8s forget NLL %.3f  retain NLL %.3f  forget QA accuracy %.2f  retain QA accuracy %.2f",
                    o.get("model").getAsString(), o.get("forget_nll").getAsDouble(), o.get("retain_nll").getAsDouble(),
                    o.get("forget_qa_accuracy").getAsDouble(), o.get("retain_qa_accuracy").getAsDouble()));
        }
        Console.info("unlearn prepare: wrote " + out + "/target and " + out + "/retrain; summary.json has the fact check");
        return 0;
    }
}
