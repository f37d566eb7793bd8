package io.loupe.jobs.train;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.loupe.jobs.JobFiles;
import io.loupe.plot.LinePlot;
import io.loupe.train.StepLog;
import io.loupe.train.TrainData;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * What the driver writes after a sweep: {@code runs.parquet} (one row per run and step), {@code summary.json}
 * (per run: settings, final losses, checkpoints, speed) and {@code plots/loss.png}. {@link #clear} removes the
 * summary and table before a run starts, so an interrupted sweep never leaves a previous one's summary behind.
 */
public final class TrainOutput {
    public static final StructType RUNS_SCHEMA = new StructType()
            .add("run", DataTypes.StringType)
            .add("step", DataTypes.IntegerType)
            .add("tokens", DataTypes.LongType)
            .add("train_loss", DataTypes.DoubleType)
            .add("heldout_loss", DataTypes.DoubleType)
            .add("lr", DataTypes.DoubleType)
            .add("grad_norm", DataTypes.DoubleType)
            .add("activation_l1", DataTypes.DoubleType);

    private TrainOutput() {
    }

    public static void clear(Configuration conf, String out) throws IOException {
        Path root = new Path(out);
        FileSystem fs = root.getFileSystem(conf);
        fs.delete(new Path(root, "summary.json"), false);
        fs.delete(new Path(root, "runs.parquet"), true);
    }

    /** The per-step table of every run. */
    public static List<Row> rows(List<JsonObject> results) {
        List<Row> rows = new ArrayList<>();
        for (JsonObject r : results) {
            for (StepLog l : StepLog.fromJson(r.get("log").toString())) {
                rows.add(RowFactory.create(r.get("run").getAsString(), l.step(), l.tokens(), l.trainLoss(), l.heldOutLoss(), l.lr(), l.gradNorm(),
                        l.activationL1()));
            }
        }
        return rows;
    }

    /** @param job the command, for the report's title ("train", "unlearn", "unlearn prepare") */
    public static void write(SparkSession spark, String job, String out, List<JsonObject> results, TrainData data, JsonObject settings)
            throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        spark.createDataFrame(rows(results), RUNS_SCHEMA).coalesce(1).write().mode(SaveMode.Overwrite).parquet(out + "/runs.parquet");
        JsonObject summary = new JsonObject();
        summary.add("settings", settings);
        JsonObject corpus = new JsonObject();
        corpus.addProperty("train_sequences", data.train().size());
        corpus.addProperty("heldout_sequences", data.heldOut().size());
        corpus.addProperty("train_tokens", data.train().stream().mapToLong(s -> s.ids().length).sum());
        summary.add("corpus", corpus);
        JsonArray runs = new JsonArray();
        LinePlot loss = new LinePlot("training loss", "tokens seen", "next-token loss (nats)");
        for (JsonObject r : results) {
            JsonObject o = r.deepCopy();
            List<StepLog> log = StepLog.fromJson(o.remove("log").toString());
            StepLog last = log.get(log.size() - 1);
            o.addProperty("final_train_loss", last.trainLoss());
            o.addProperty("final_heldout_loss", last.heldOutLoss());
            runs.add(o);
            loss.add(new LinePlot.Series(r.get("run").getAsString() + " train", log.stream().mapToDouble(StepLog::tokens).toArray(),
                    log.stream().mapToDouble(StepLog::trainLoss).toArray(), true, false));
            List<StepLog> held = log.stream().filter(l -> !Double.isNaN(l.heldOutLoss())).toList();
            if (!held.isEmpty()) {
                loss.add(new LinePlot.Series(r.get("run").getAsString() + " held-out", held.stream().mapToDouble(StepLog::tokens).toArray(),
                        held.stream().mapToDouble(StepLog::heldOutLoss).toArray(), false, true));
            }
        }
        summary.add("runs", runs);
        java.nio.file.Path plots = java.nio.file.Files.createTempDirectory("loupe-train-plots-");
        loss.write(plots.resolve("loss.png"));
        JobFiles.replaceWithLocal(conf, plots, new Path(out, "plots"));
        JobFiles.writeJson(conf, new Path(out, "summary.json"), summary);
        io.loupe.jobs.RunReport.write(conf, out, job);
    }

    /** A run's final figures as one line. */
    public static String describe(JsonObject r) {
        JsonElement log = r.get("log");
        List<StepLog> l = StepLog.fromJson(log.toString());
        StepLog last = l.get(l.size() - 1);
        return String.format("%s: %d steps, %d tokens, train loss %.4f%s, %.0f tokens/s, %d checkpoint(s)", r.get("run").getAsString(), last.step(),
                r.get("tokens_seen").getAsLong(), last.trainLoss(),
                Double.isNaN(last.heldOutLoss()) ? "" : String.format(", held-out %.4f", last.heldOutLoss()),
                r.get("tokens_per_second").getAsDouble(), r.getAsJsonArray("checkpoints").size());
    }
}
