package io.loupe.api;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import io.loupe.dict.SaeConfig;
import io.loupe.dict.SaeLensConfig;
import io.loupe.dict.SparseAutoencoder;
import io.loupe.jobs.ModelFiles;
import io.loupe.model.Runtime;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.apache.spark.sql.functions.col;

/**
 * Encodes activation rows with a dictionary Loupe trained: it keeps the rows of the
 * dictionary's hook (when the input has a {@code hook} column) and adds each row's active latents as
 * {@code latents} ({@code array<int>}, ascending) and {@code latent_values} ({@code array<float>}), the nonzero codes
 * only. Input: {@link LoupeFrames#activations}, or any DataFrame whose {@code values} column (or {@link #setInputCol})
 * holds {@code array<float>} rows of width d_in. Each partition loads the checkpoint once and encodes batches of 1,024
 * rows ({@link SparseAutoencoder#encode}, as {@code features} does). In Spark ML's style (setters, then
 * {@code transform}), without Spark ML's classes: spark-mllib is not a dependency, and a notebook needs none.
 */
public final class DictionaryEncoder implements java.io.Serializable {
    private static final int BATCH = 1024;
    private String checkpoint;
    private String inputCol = "values";

    /** The fit output folder of one dictionary (cfg.json, sae_weights.safetensors), any Hadoop URI. */
    public DictionaryEncoder setCheckpoint(String checkpoint) {
        this.checkpoint = checkpoint;
        return this;
    }

    /** The {@code array<float>} column to encode (default {@code values}). */
    public DictionaryEncoder setInputCol(String inputCol) {
        this.inputCol = inputCol;
        return this;
    }

    /** The output schema for an input schema: the input's columns, then {@code latents} and {@code latent_values}. */
    public StructType transformSchema(StructType schema) {
        if (!java.util.Arrays.asList(schema.fieldNames()).contains(inputCol)) {
            throw new IllegalArgumentException("no column '" + inputCol + "' to encode; columns: " + String.join(", ", schema.fieldNames()));
        }
        return schema.add("latents", DataTypes.createArrayType(DataTypes.IntegerType, false), false)
                .add("latent_values", DataTypes.createArrayType(DataTypes.FloatType, false), false);
    }

    /** The encoded rows of the dictionary's hook. */
    public Dataset<Row> transform(Dataset<?> dataset) {
        if (checkpoint == null) {
            throw new IllegalStateException("setCheckpoint(…) first");
        }
        JsonObject cfgJson = readConfig(dataset.sparkSession().sparkContext().hadoopConfiguration());
        SaeConfig cfg = SaeLensConfig.loupeConfig(cfgJson);
        Dataset<Row> in = dataset.toDF();
        if (java.util.Arrays.asList(in.columns()).contains("hook")) {
            in = in.where(col("hook").equalTo(SaeLensConfig.hookName(cfgJson)));
        }
        StructType out = transformSchema(in.schema());
        int column = in.schema().fieldIndex(inputCol);
        String ckpt = checkpoint;
        return in.mapPartitions((org.apache.spark.api.java.function.MapPartitionsFunction<Row, Row>) rows -> {
            List<Row> result = new ArrayList<>();
            org.apache.hadoop.conf.Configuration conf = org.apache.spark.deploy.SparkHadoopUtil.get().newConfiguration(org.apache.spark.SparkEnv.get().conf());
            try (NDManager m = Runtime.newManager(ai.djl.Device.cpu());
                 SparseAutoencoder sae = SparseAutoencoder.load(ModelFiles.local(ckpt, conf), cfg, m)) {
                List<Row> batch = new ArrayList<>(BATCH);
                while (rows.hasNext()) {
                    batch.add(rows.next());
                    if (batch.size() == BATCH || !rows.hasNext()) {
                        encode(sae, m, batch, column, cfg.dIn(), result);
                        batch.clear();
                    }
                }
            }
            return result.iterator();
        }, org.apache.spark.sql.Encoders.row(out));
    }

    private static void encode(SparseAutoencoder sae, NDManager parent, List<Row> batch, int column, int dIn, List<Row> out) {
        try (NDManager m = parent.newSubManager()) {
            float[] flat = new float[batch.size() * dIn];
            for (int r = 0; r < batch.size(); r++) {
                List<Float> v = batch.get(r).getList(column);
                if (v.size() != dIn) {
                    throw new IllegalArgumentException("a row of width " + v.size() + " for a dictionary with d_in " + dIn);
                }
                for (int i = 0; i < dIn; i++) {
                    flat[r * dIn + i] = v.get(i);
                }
            }
            float[] codes = sae.encode(m.create(flat, new Shape(batch.size(), dIn))).toFloatArray();
            int dSae = codes.length / batch.size();
            for (int r = 0; r < batch.size(); r++) {
                List<Integer> latents = new ArrayList<>();
                List<Float> values = new ArrayList<>();
                for (int j = 0; j < dSae; j++) {
                    float c = codes[r * dSae + j];
                    if (c != 0) {
                        latents.add(j);
                        values.add(c);
                    }
                }
                Row row = batch.get(r);
                Object[] cells = new Object[row.length() + 2];
                for (int i = 0; i < row.length(); i++) {
                    cells[i] = row.get(i);
                }
                cells[row.length()] = latents.toArray(new Integer[0]);
                cells[row.length() + 1] = values.toArray(new Float[0]);
                out.add(RowFactory.create(cells));
            }
        }
    }

    private JsonObject readConfig(org.apache.hadoop.conf.Configuration conf) {
        Path p = new Path(checkpoint, "cfg.json");
        try (var in = p.getFileSystem(conf).open(p)) {   // the FileSystem is Hadoop's shared instance: not ours to close
            return SaeLensConfig.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + p, e);
        }
    }
}
