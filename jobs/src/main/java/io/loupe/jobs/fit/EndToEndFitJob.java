package io.loupe.jobs.fit;

import io.loupe.dict.EndToEndRun;
import io.loupe.dict.EndToEndTrainer;
import io.loupe.hooks.HookPoint;
import io.loupe.jobs.ExecutorModels;
import io.loupe.jobs.JobFiles;
import io.loupe.model.Runtime;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.deploy.SparkHadoopUtil;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * End-to-end dictionaries as Spark tasks, one per configuration: each task loads the model once per executor JVM,
 * trains through it on the tokenised prompts ({@link EndToEndRun}) and publishes its checkpoint folder whole; the
 * driver writes {@code results.parquet}, {@code results.csv} and {@code report.html} as {@code fit} does. A retried
 * task starts again from step 0 (no saved training state) and replaces the folder, so a re-run never leaves two.
 */
public final class EndToEndFitJob {
    private static final Logger LOG = LoggerFactory.getLogger(EndToEndFitJob.class);

    /** One point of an end-to-end grid: the dictionary (its {@link FitTask}) and the objective. */
    public record Task(FitTask fit, EndToEndTrainer.Settings settings) implements java.io.Serializable {
        public String name() {
            return fit.name() + "__" + settings.objective().replace("+", "_");
        }
    }

    private EndToEndFitJob() {
    }

    /** @param modelName the model's name in each checkpoint's metadata */
    /** @param train, heldOut token sequences, one per prompt */
    public static List<Map<String, Object>> run(SparkSession spark, List<Task> grid, List<long[]> train, List<long[]> heldOut, String model,
                                                String modelName, int contextSize, String out) throws IOException {
        Configuration hconf = spark.sparkContext().hadoopConfiguration();
        String qualifiedModel = JobFiles.qualify(model, hconf), qualifiedOut = JobFiles.qualify(out, hconf);
        spark.sparkContext().setJobDescription("loupe fit-e2e: " + grid.size() + " dictionaries");
        List<String> json = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .parallelize(grid, grid.size())
                .map(task -> fitOne(task, train, heldOut, qualifiedModel, modelName, contextSize, qualifiedOut))
                .collect();
        return FitSweepJob.publishResults(spark, json, qualifiedOut);
    }

    private static String fitOne(Task task, List<long[]> train, List<long[]> heldOut, String model, String modelName, int contextSize, String out) throws IOException {
        Configuration conf = SparkHadoopUtil.get().newConfiguration(SparkEnv.get().conf());
        ExecutorModels.Loaded lm = ExecutorModels.get(model, ExecutorModels.taskDevice("auto"));
        java.nio.file.Path local = Files.createTempDirectory("loupe-fit-e2e-");
        Map<String, Object> metrics;
        try (var manager = Runtime.newManager(ai.djl.Device.cpu())) {
            Map<String, Object> extra = new LinkedHashMap<>(Map.of("model_name", modelName, "dataset_path", "tokenised prompts (end-to-end)",
                    "prepend_bos", true, "context_size", contextSize));
            metrics = EndToEndRun.run(task.fit().config(), task.settings(), lm.model(), HookPoint.parse(task.fit().hook()),
                    train, heldOut, local, extra, manager,
                    l -> LOG.info(task.name() + ": " + EndToEndRun.describe(l, task.fit().steps())));
        }
        return FitSweepJob.publishCheckpoint(conf, local, out, task.name(), metrics);
    }
}
