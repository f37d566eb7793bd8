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

import java.io.IOException;

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
}
