package io.loupe.api;

import com.google.gson.JsonObject;
import io.loupe.collect.ValueDtype;
import io.loupe.jobs.collect.Manifest;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.loupe.jobs.ModelFiles;
import io.loupe.model.Runtime;
import io.loupe.tensor.SafetensorsFile;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.udf;

/**
 * Loupe's outputs as DataFrames, for notebooks (Zeppelin {@code %spark}, Databricks) and Spark SQL:
 * <pre>
 *   Dataset&lt;Row&gt; acts = LoupeFrames.activations(spark, "out/acts/stories260k");
 *   acts.where("hook = 'blocks.2.hook_resid_post'").select("example_id", "position", "values").show();
 *   new DictionaryEncoder().setCheckpoint("out/fit/one/&lt;name&gt;").transform(acts).select("latents", "latent_values");
 * </pre>
 */
public final class LoupeFrames {
    private LoupeFrames() {
    }

    /**
     * A collect output's rows (the columns of {@code CollectSchema}) with {@code values} decoded from the stored bytes
     * to {@code array<float>} in the run's dtype ({@code _loupe.json}). An unfinished collect run is refused, as
     * {@code fit} refuses it, unless {@code allowIncomplete}.
     */
    public static Dataset<Row> activations(SparkSession spark, String path, boolean allowIncomplete) throws IOException {
        JsonObject manifest = Manifest.readForUse(spark.sparkContext().hadoopConfiguration(), path, allowIncomplete);
        return decodeValues(spark.read().parquet(path), ValueDtype.parse(manifest.get("dtype").getAsString()));
    }

    /** {@code values} from stored bytes of {@code dtype} to {@code array<float>}. */
    static Dataset<Row> decodeValues(Dataset<Row> rows, ValueDtype dtype) {
        UserDefinedFunction decode = udf((UDF1<byte[], float[]>) dtype::decode, DataTypes.createArrayType(DataTypes.FloatType, false));
        return rows.withColumn("values", decode.apply(col("values")));
    }

    /** {@link #activations(SparkSession, String, boolean)} of a finished run. */
    public static Dataset<Row> activations(SparkSession spark, String path) throws IOException {
        return activations(spark, path, false);
    }

    /**
     * A collect output's manifest ({@code _loupe.json}: model, hooks and widths, dtype, settings, progress) as one row.
     * Spark's file sources skip names that start with an underscore, so it is read here and handed over as text.
     */
    public static Dataset<Row> manifest(SparkSession spark, String path) throws IOException {
        JsonObject m = Manifest.readForUse(spark.sparkContext().hadoopConfiguration(), path, true);
        return spark.read().json(spark.createDataset(List.of(m.toString()), org.apache.spark.sql.Encoders.STRING()));
    }

    /** A fit output's {@code results.parquet}: one row per dictionary (FVU, L0, CE loss recovered, dead latents, speed, checkpoint). */
    public static Dataset<Row> fitResults(SparkSession spark, String dir) throws IOException {
        return parquetIn(spark, dir, "results.parquet", "fit");
    }

    /** A {@code features} output: one row per latent with its firing frequency and top contexts. */
    public static Dataset<Row> features(SparkSession spark, String path) {
        return spark.read().parquet(path);
    }

    /** A sparsity output's {@code layers.parquet}: one row per checkpoint and layer. */
    public static Dataset<Row> sparsity(SparkSession spark, String dir) throws IOException {
        return parquetIn(spark, dir, "layers.parquet", "sparsity");
    }

    /** A circuits output's {@code scores.parquet}: one row per method, direction and node. */
    public static Dataset<Row> circuits(SparkSession spark, String dir) throws IOException {
        return parquetIn(spark, dir, "scores.parquet", "circuits");
    }

    /** A train or unlearn output's {@code runs.parquet}: one row per run and logged step. */
    public static Dataset<Row> trainingLog(SparkSession spark, String dir) throws IOException {
        return parquetIn(spark, dir, "runs.parquet", "train or unlearn");
    }

    /** An unlearning score's {@code leaderboard.csv} with typed columns: one row per model. */
    public static Dataset<Row> leaderboard(SparkSession spark, String dir) throws IOException {
        Path p = require(spark, dir, "leaderboard.csv", "unlearning score");
        return spark.read().option("header", "true").option("inferSchema", "true").csv(p.toString());
    }

    /** An unlearning score's {@code examples.parquet}: one row per model, split and example. */
    public static Dataset<Row> unlearningExamples(SparkSession spark, String dir) throws IOException {
        return parquetIn(spark, dir, "examples.parquet", "unlearning score");
    }

    /** A run's {@code summary.json} (or a fit-laws {@code scaling.json}) as one row whose nested fields are structs. */
    public static Dataset<Row> summary(SparkSession spark, String dir) throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        for (String name : new String[]{"summary.json", "scaling.json"}) {
            Path p = new Path(dir, name);
            if (p.getFileSystem(conf).exists(p)) {
                return spark.read().option("multiLine", "true").option("allowNonNumericNumbers", "true").json(p.toString());
            }
        }
        throw new IllegalArgumentException(dir + ": no summary.json or scaling.json");
    }

    /**
     * A fit checkpoint as one row per latent: {@code latent}, {@code decoder} (its row of W_dec, the direction it writes),
     * {@code encoder} (its column of W_enc), {@code bias} (b_enc, or b_gate for a Gated dictionary) and {@code threshold}
     * (JumpReLU-form dictionaries; null otherwise), as saved (activation scaling folded in).
     */
    public static Dataset<Row> dictionary(SparkSession spark, String checkpoint) throws IOException {
        java.nio.file.Path local = ModelFiles.local(checkpoint, spark.sparkContext().hadoopConfiguration());
        SafetensorsFile f = SafetensorsFile.open(local.resolve("sae_weights.safetensors"));
        List<Row> rows = new ArrayList<>();
        try (NDManager m = Runtime.newManager(ai.djl.Device.cpu())) {
            float[] wDec = f.load(m, "W_dec", DataType.FLOAT32).toFloatArray(), wEnc = f.load(m, "W_enc", DataType.FLOAT32).toFloatArray();
            String biasName = f.entries().containsKey("b_enc") ? "b_enc" : "b_gate";
            float[] bias = f.load(m, biasName, DataType.FLOAT32).toFloatArray();
            float[] threshold = f.entries().containsKey("threshold") ? f.load(m, "threshold", DataType.FLOAT32).toFloatArray() : null;
            int dSae = bias.length, dIn = wEnc.length / dSae;
            for (int j = 0; j < dSae; j++) {
                float[] dec = new float[dIn], enc = new float[dIn];
                System.arraycopy(wDec, j * dIn, dec, 0, dIn);
                for (int i = 0; i < dIn; i++) {
                    enc[i] = wEnc[i * dSae + j];
                }
                rows.add(RowFactory.create(j, dec, enc, bias[j], threshold == null ? null : threshold[j]));
            }
        }
        StructType schema = new StructType().add("latent", DataTypes.IntegerType, false)
                .add("decoder", DataTypes.createArrayType(DataTypes.FloatType, false), false)
                .add("encoder", DataTypes.createArrayType(DataTypes.FloatType, false), false)
                .add("bias", DataTypes.FloatType, false).add("threshold", DataTypes.FloatType, true);
        return spark.createDataFrame(rows, schema);
    }

    /**
     * Any Loupe output folder as its main table: activations (collect), results (fit), layers (sparsity), scores
     * (circuits), the leaderboard (unlearning score), the training log (train, unlearn) or, for a single dictionary,
     * {@link #dictionary}.
     */
    public static Dataset<Row> open(SparkSession spark, String dir) throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        FileSystem fs = new Path(dir).getFileSystem(conf);
        if (fs.exists(new Path(dir, Manifest.NAME))) {
            return activations(spark, dir);
        }
        if (fs.exists(new Path(dir, "sae_weights.safetensors"))) {
            return dictionary(spark, dir);
        }
        if (fs.exists(new Path(dir, "leaderboard.csv"))) {
            return leaderboard(spark, dir);
        }
        for (String table : new String[]{"results.parquet", "layers.parquet", "scores.parquet", "runs.parquet"}) {
            if (fs.exists(new Path(dir, table))) {
                return spark.read().parquet(new Path(dir, table).toString());
            }
        }
        throw new IllegalArgumentException(dir + ": not a Loupe output (no " + Manifest.NAME
                + ", sae_weights.safetensors, leaderboard.csv, results/layers/scores/runs.parquet)");
    }

    private static Dataset<Row> parquetIn(SparkSession spark, String dir, String table, String job) throws IOException {
        return spark.read().parquet(require(spark, dir, table, job).toString());
    }

    private static Path require(SparkSession spark, String dir, String file, String job) throws IOException {
        Path p = new Path(dir, file);
        if (!p.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(p)) {
            throw new IllegalArgumentException(dir + ": no " + file + " (not a " + job + " output)");
        }
        return p;
    }
}
