package io.loupe.cli;

import com.google.gson.JsonObject;
import io.loupe.jobs.JobFiles;
import io.loupe.jobs.SparkSessions;
import io.loupe.jobs.train.ModelSource;
import io.loupe.jobs.train.TrainOutput;
import io.loupe.jobs.train.TrainRun;
import io.loupe.jobs.train.TrainSweepJob;
import io.loupe.jobs.unlearn.UnlearningRows;
import io.loupe.model.ModelConfig;
import io.loupe.train.TrainConfig;
import io.loupe.train.TrainData;
import io.loupe.unlearn.Method;
import io.loupe.unlearn.UnlearnSettings;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code loupe unlearn}: unlearning methods as a grid of Spark tasks on a target model, each writing an unlearned
 * Hugging Face model; {@code loupe unlearn prepare} makes the target and the retrain model first.
 */
@Command(name = "unlearn", mixinStandardHelpOptions = true, subcommands = {UnlearnPrepareCommand.class, UnlearnStudyCommand.class},
        description = {"Runs unlearning methods on a target model as a grid of Spark tasks (methods x learning rates x steps), each",
                "writing OUT/<run> (a Hugging Face model directory with loss.png) and, for all runs, runs.parquet, summary.json and",
                "plots/loss.png. Methods: ga (gradient ascent), graddiff (gradient difference), kl (ascent with a KL term to the",
                "target on retain), npo (Negative Preference Optimization), npo_rt (NPO + retain NLL), rmu (Representation",
                "Misdirection at --rmu-layer). Every output feeds `loupe unlearning score` unchanged. `unlearn prepare` makes the",
                "target and retrain models first. Options can come from @conf/unlearn.conf."})
final class UnlearnCommand implements Callable<Integer> {
    @Option(names = "--target", description = "The model that learned the forget set (any Hadoop URI).")
    String target;
    @Option(names = "--forget", description = "Forget split: JSONL or Parquet rows (text, prompt + gt, or question + answer).")
    String forget;
    @Option(names = "--retain", description = "Retain split, same format (used by methods with a retain term).")
    String retain;
    @Option(names = "--format", defaultValue = "auto", description = "auto, json or parquet (default: ${DEFAULT-VALUE}).")
    String format;
    @Option(names = "--method", split = ",", description = "Method(s): ga, graddiff, kl, npo, npo_rt, rmu.")
    List<String> methods;
    @Option(names = "--lr", defaultValue = "1e-4", split = ",", description = "Learning rate(s) (default: ${DEFAULT-VALUE}).")
    List<Double> lrs;
    @Option(names = "--steps", defaultValue = "50", split = ",", description = "Optimizer steps, one run per value (default: ${DEFAULT-VALUE}).")
    List<Integer> stepsList;
    @Option(names = "--batch-size", defaultValue = "8", description = "Forget (and retain) sequences per step (default: ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--alpha", defaultValue = "1.0", description = "Weight of the retain term (default: ${DEFAULT-VALUE}).")
    double alpha;
    @Option(names = "--beta", defaultValue = "0.1", description = "NPO's beta (default: ${DEFAULT-VALUE}).")
    double beta;
    @Option(names = "--rmu-layer", defaultValue = "-1", description = "RMU's layer; -1 = the middle layer (default: ${DEFAULT-VALUE}).")
    int rmuLayer;
    @Option(names = "--rmu-steering", defaultValue = "6.5", description = "RMU's steering coefficient c (default: ${DEFAULT-VALUE}).")
    double rmuSteering;
    @Option(names = "--seed", defaultValue = "0", description = "Seed of the batch order and RMU's direction (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--device", defaultValue = "auto", description = "cpu, gpu, gpu:N or auto (default: ${DEFAULT-VALUE}).")
    String device;
    @Option(names = "--fail-once-at-step", defaultValue = "-1", hidden = true, description = "Fault injection for tests.")
    int failOnceAtStep;
    @Option(names = "--master", description = "Spark master; default: spark-submit's, else " + SparkSessions.LOCAL_DEFAULT + ".")
    String master;
    @Option(names = "--out", description = "Output folder: one model folder per run, runs.parquet, summary.json, plots/.")
    String out;

    @Override
    public Integer call() throws Exception {
        // Required here, not in picocli: `unlearn prepare` and `unlearn study` must parse without them.
        for (Object[] o : new Object[][]{{target, "--target"}, {forget, "--forget"}, {retain, "--retain"}, {methods, "--method"}, {out, "--out"}}) {
            if (o[0] == null) {
                throw new IllegalArgumentException("missing " + o[1] + " (see `loupe unlearn --help`)");
            }
        }
        List<Method> parsed = new ArrayList<>();
        for (String m : methods) {
            parsed.add(Method.parse(m));   // an unknown method fails before any work
        }
        if (batchSize < 1 || stepsList.stream().anyMatch(s -> s < 1)) {
            throw new IllegalArgumentException("--batch-size and --steps must be >= 1");
        }
        SparkSession spark = SparkSessions.getOrCreate("loupe unlearn", master);
        Configuration hconf = spark.sparkContext().hadoopConfiguration();
        String targetUri = JobFiles.qualify(target, hconf);
        ModelSource src = new ModelSource(null, targetUri, targetUri);
        ModelConfig cfg = src.config(hconf);
        UnlearningRows.requireDisjoint(UnlearningRows.read(spark, JobFiles.qualify(forget, hconf), format, "forget"),
                UnlearningRows.read(spark, JobFiles.qualify(retain, hconf), format, "retain"), "retain");
        TrainSweepJob.Encoded f = TrainSweepJob.encode(spark, JobFiles.qualify(forget, hconf), format, src, cfg);
        TrainSweepJob.Encoded r = TrainSweepJob.encode(spark, JobFiles.qualify(retain, hconf), format, src, cfg);
        int layer = rmuLayer >= 0 ? rmuLayer : cfg.numLayers() / 2;
        List<TrainRun> runs = new ArrayList<>();
        for (Method m : parsed) {
            for (double lr : lrs) {
                for (int steps : stepsList) {
                    TrainConfig c = new TrainConfig(lr, 1.0, 0, 0.0, 0.9, 0.999, 1e-8, 1.0, batchSize, 1, steps, seed, 0, 0,
                            Math.max(1, steps / 5), new int[]{steps}, io.loupe.train.ActivationL1.none(steps));
                    UnlearnSettings u = new UnlearnSettings(m, alpha, beta, layer, rmuSteering, batchSize, seed);
                    runs.add(new TrainRun(m.cliName() + "_lr" + lr + "_steps" + steps, null, "", c, "forget", u, true));
                }
            }
        }
        TrainOutput.clear(hconf, JobFiles.qualify(out, hconf));
        Console.info(String.format("unlearn: %d run(s) on %s: %d forget rows, %d retain rows -> %s", runs.size(), target,
                f.documents().size() + f.qa().size(), r.documents().size() + r.qa().size(), out));
        long start = System.nanoTime();
        List<JsonObject> results = TrainSweepJob.run(spark, src, runs, Map.of("forget", f.unpacked(), "retain", r.unpacked()),
                new TrainSweepJob.Settings(device, Math.max(1, stepsList.stream().mapToInt(Integer::intValue).max().orElse(1) / 10), failOnceAtStep), out);
        JsonObject settings = new JsonObject();
        settings.addProperty("target", target);
        settings.addProperty("forget", forget);
        settings.addProperty("retain", retain);
        settings.addProperty("alpha", alpha);
        settings.addProperty("beta", beta);
        settings.addProperty("rmu_layer", layer);
        settings.addProperty("rmu_steering", rmuSteering);
        TrainData forgetData = f.unpacked();
        TrainOutput.write(spark, "unlearn", JobFiles.qualify(out, hconf), results, forgetData, settings);
        for (JsonObject res : results) {
            Console.info("unlearn: " + TrainOutput.describe(res));
        }
        Console.info(String.format("unlearn: %d run(s) in %.1f s; models in %s/<run>, score them with `loupe unlearning score`", runs.size(),
                (System.nanoTime() - start) / 1e9, out));
        return 0;
    }
}
