package io.loupe.jobs.fit;

import com.google.gson.Gson;
import io.loupe.collect.ValueDtype;
import io.loupe.dict.FitRun;
import io.loupe.dict.SaeTrainer;
import io.loupe.optim.TrainingState;
import io.loupe.hooks.HookPoint;
import io.loupe.jobs.ExecutorModels;
import io.loupe.jobs.JobFiles;
import io.loupe.model.Runtime;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.deploy.SparkHadoopUtil;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;

/**
 * A grid of dictionaries as Spark tasks, one dictionary per task, all reading the same activation
 * dataset. Each task reads its hook's rows, trains with the executor's shared model for CE metrics, and
 * copies its checkpoint to {@code OUT/<name>/} (replacing any earlier attempt's, so a retried task leaves
 * one copy). Every {@code checkpointEvery} steps the training state goes to {@code OUT/<name>/_resume/};
 * a retried or re-run task continues from it and ends with the weights an uninterrupted run would have.
 * The driver writes {@code OUT/results.parquet} and {@code OUT/results.csv}.
 */
public final class FitSweepJob {
    private static final Logger LOG = LoggerFactory.getLogger(FitSweepJob.class);

    private FitSweepJob() {
    }

    /** @return one metrics map per task, in grid order */
    public static List<Map<String, Object>> run(SparkSession spark, List<FitTask> grid, String activations, ValueDtype dtype, String model,
                                                double evalFraction, String out) throws IOException {
        return run(spark, grid, activations, dtype, model, out, new Options(evalFraction, 0, 256, -1, JobFiles.qualify(model, spark.sparkContext().hadoopConfiguration()), 0));
    }

    /**
     * How each task trains.
     *
     * @param evalFraction    share of prompts held out
     * @param checkpointEvery steps between saved training states (0: a tenth of the steps)
     * @param shuffleBufferMb autoencoders stream their rows through a shuffle buffer of this many MB; 0 loads every row into memory
     *                        (transcoders always do: they pair two hooks' rows by token)
     * @param failOnceAtStep  fault injection for tests: the first attempt of each task dies after saving this step (-1: never)
     * @param modelName       the model's name in each checkpoint's metadata (a TransformerLens id, or the model's URI)
     * @param contextSize     the activations' context size for the metadata; 0 when the collect run did not fix one
     */
    public record Options(double evalFraction, int checkpointEvery, int shuffleBufferMb, int failOnceAtStep, String modelName, int contextSize)
            implements java.io.Serializable {
    }

    public static List<Map<String, Object>> run(SparkSession spark, List<FitTask> grid, String activations, ValueDtype dtype, String model,
                                                String out, Options o) throws IOException {
        Configuration hconf = spark.sparkContext().hadoopConfiguration();
        String qualifiedActs = JobFiles.qualify(activations, hconf), qualifiedModel = JobFiles.qualify(model, hconf),
                qualifiedOut = JobFiles.qualify(out, hconf);
        spark.sparkContext().setJobDescription("loupe fit: " + grid.size() + " dictionaries");
        List<String> json = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .parallelize(grid, grid.size())
                .map(task -> fitOne(task, qualifiedActs, dtype, qualifiedModel, qualifiedOut, o))
                .collect();
        return publishResults(spark, json, qualifiedOut);
    }

    /**
     * The driver's part once every task has finished: one metrics map per task (JSON, in grid order) to
     * {@code results.parquet}, {@code results.csv} (scalar columns) and {@code report.html}.
     */
    public static List<Map<String, Object>> publishResults(SparkSession spark, List<String> json, String qualifiedOut) throws IOException {
        Gson gson = new Gson();
        List<Map<String, Object>> results = new ArrayList<>();
        for (String j : json) {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = gson.fromJson(j, Map.class);
            results.add(m);
        }
        Dataset<Row> table = spark.read().json(spark.createDataset(json, Encoders.STRING()));
        table.coalesce(1).write().mode(SaveMode.Overwrite).parquet(qualifiedOut + "/results.parquet");
        List<String> scalars = new ArrayList<>();
        for (var f : table.schema().fields()) {
            if (!(f.dataType() instanceof org.apache.spark.sql.types.StructType) && !(f.dataType() instanceof org.apache.spark.sql.types.ArrayType)) {
                scalars.add(f.name());
            }
        }
        List<List<Object>> csvRows = new ArrayList<>();
        for (Row r : table.select(scalars.stream().map(c -> col(c)).toArray(org.apache.spark.sql.Column[]::new)).collectAsList()) {
            List<Object> v = new ArrayList<>();
            for (int i = 0; i < r.length(); i++) {
                v.add(r.get(i));
            }
            csvRows.add(v);
        }
        io.loupe.jobs.JobFiles.writeCsv(spark.sparkContext().hadoopConfiguration(), new org.apache.hadoop.fs.Path(qualifiedOut, "results.csv"), scalars,
                csvRows);
        io.loupe.jobs.RunReport.write(spark.sparkContext().hadoopConfiguration(), qualifiedOut, "fit");
        return results;
    }

    private static String fitOne(FitTask task, String activations, ValueDtype dtype, String model, String out, Options o) throws IOException {
        Configuration conf = SparkHadoopUtil.get().newConfiguration(SparkEnv.get().conf());
        ExecutorModels.Loaded lm = ExecutorModels.get(model, ExecutorModels.taskDevice("auto"));
        java.nio.file.Path local = Files.createTempDirectory("loupe-fit-");
        SaeTrainer.Resume resume = resume(conf, new Path(out, task.name() + "/_resume"), local.resolve("_resume"), task,
                o.checkpointEvery() > 0 ? o.checkpointEvery() : Math.max(1, task.steps() / 10), o.failOnceAtStep());
        Map<String, Object> metrics;
        try (var manager = Runtime.newManager(ai.djl.Device.cpu())) {
            Map<String, Object> extra = new java.util.LinkedHashMap<>(Map.of("model_name", o.modelName(), "dataset_path", activations,
                    "prepend_bos", true));
            if (o.contextSize() > 0) {
                extra.put("context_size", o.contextSize());
            }
            java.util.function.Consumer<String> log = line -> LOG.info(task.name() + ": " + line);
            HookPoint hook = HookPoint.parse(task.hook());
            if (task.targetHook() == null && o.shuffleBufferMb() > 0) {
                int bufferRows = (int) Math.min(Integer.MAX_VALUE / task.dIn(), (long) o.shuffleBufferMb() * (1 << 20) / (4L * task.dIn()));
                metrics = FitRun.runStreaming(task.config(), ActivationReader.stream(conf, activations, task.hook(), dtype), hook, lm.model(),
                        o.evalFraction(), bufferRows, local, extra, manager, log, resume);
            } else {
                List<FitRun.Row> rows = task.targetHook() == null ? ActivationReader.read(conf, activations, task.hook(), dtype)
                        : ActivationReader.readPairs(conf, activations, task.hook(), task.targetHook(), dtype);
                metrics = FitRun.run(task.config(), rows, hook, task.targetHook() == null ? null : HookPoint.parse(task.targetHook()), lm.model(),
                        o.evalFraction(), local, extra, manager, log, resume);
            }
        }
        io.loupe.io.LocalDirs.deleteRecursively(local.resolve("_resume"));
        return publishCheckpoint(conf, local, out, task.name(), metrics);
    }

    /**
     * A finished task's checkpoint folder replaces {@code out/name} whole (with any saved training state there: the run is
     * complete); returns its metrics, with its name and location, as the JSON row the driver collects.
     */
    static String publishCheckpoint(Configuration conf, java.nio.file.Path local, String out, String name, Map<String, Object> metrics)
            throws IOException {
        Path dst = new Path(out, name);
        JobFiles.replaceWithLocal(conf, local, dst);
        metrics.put("name", name);
        metrics.put("checkpoint", dst.toString());
        return new Gson().newBuilder().serializeSpecialFloatingPointValues().create().toJson(metrics);
    }

    /**
     * Fetches a saved training state from durable storage if there is one, and copies each new one there;
     * the fault injection kills the task's first attempt right after a copy, as a lost executor would.
     */
    private static SaeTrainer.Resume resume(Configuration conf, Path remote, java.nio.file.Path local, FitTask task, int every, int failAt)
            throws IOException {
        Path state = new Path(remote, TrainingState.FILE);
        if (io.loupe.jobs.DurableState.fetch(conf, remote, local)) {
            LOG.info(task.name() + ": found a saved training state; resuming from it");
        }
        int attempt = TaskContext.get() == null ? 0 : TaskContext.get().attemptNumber();
        return new SaeTrainer.Resume(local, every, step -> {
            try {
                io.loupe.jobs.DurableState.publish(conf, local, remote);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            LOG.info(task.name() + ": training state at step " + step + " saved to " + state);
            if (step == failAt && attempt == 0) {
                throw new IllegalStateException("fault injection: task " + task.name() + " killed after step " + step);
            }
        });
    }

}
