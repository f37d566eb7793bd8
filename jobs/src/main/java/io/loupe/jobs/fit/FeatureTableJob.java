package io.loupe.jobs.fit;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.loupe.collect.ValueDtype;
import io.loupe.dict.FeatureStats;
import io.loupe.dict.SaeConfig;
import io.loupe.dict.SaeLensConfig;
import io.loupe.dict.SparseAutoencoder;
import io.loupe.model.Runtime;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.apache.spark.sql.functions.col;

/**
 * Feature tables for a trained dictionary: per latent, its firing frequency and its top-k max-activating
 * contexts ({@code example_id}, {@code position}, value), computed over the whole activation dataset:
 * each partition encodes its rows and keeps a mergeable {@link FeatureStats}; the driver merges them and
 * writes {@code OUT/} as Parquet, one row per latent.
 */
public final class FeatureTableJob {
    private static final int BATCH = 4096;

    private FeatureTableJob() {
    }

    public static FeatureStats run(SparkSession spark, String activations, boolean allowIncomplete, String checkpoint, int topK, String out) throws IOException {
        var conf = spark.sparkContext().hadoopConfiguration();
        JsonObject manifest = io.loupe.jobs.collect.Manifest.readForUse(conf, activations, allowIncomplete);
        Path ckpt = new Path(checkpoint);
        FileSystem fs = ckpt.getFileSystem(conf);
        JsonObject cfgJson;
        try (var in = fs.open(new Path(ckpt, "cfg.json"))) {
            cfgJson = SaeLensConfig.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        SaeConfig cfg = SaeLensConfig.loupeConfig(cfgJson);
        String hook = SaeLensConfig.hookName(cfgJson);
        ValueDtype dtype = ValueDtype.parse(manifest.get("dtype").getAsString());
        String localCkpt = fs.makeQualified(ckpt).toString();
        Dataset<Row> rows = spark.read().parquet(activations).filter(col("hook").equalTo(hook)).select("example_id", "position", "values");
        FeatureStats total = rows.javaRDD().mapPartitions((Iterator<Row> it) -> {
            FeatureStats stats = new FeatureStats(cfg.dSae(), topK);
            try (var m = Runtime.newManager(ai.djl.Device.cpu());
                 SparseAutoencoder sae = SparseAutoencoder.load(io.loupe.jobs.ModelFiles.local(localCkpt,
                         org.apache.spark.deploy.SparkHadoopUtil.get().newConfiguration(org.apache.spark.SparkEnv.get().conf())), cfg, m)) {
                List<Row> batch = new ArrayList<>(BATCH);
                while (it.hasNext()) {
                    batch.add(it.next());
                    if (batch.size() == BATCH || !it.hasNext()) {
                        encode(sae, m, batch, dtype, cfg.dIn(), stats);
                        batch.clear();
                    }
                }
            }
            return List.of(stats).iterator();
        }).reduce(FeatureStats::merge);
        List<Row> table = new ArrayList<>();
        for (int i = 0; i < total.dSae(); i++) {
            List<Row> hits = new ArrayList<>();
            for (FeatureStats.Hit h : total.top(i)) {
                hits.add(RowFactory.create(h.value(), h.exampleId(), h.position()));
            }
            table.add(RowFactory.create(i, total.frequency(i), total.fires(i), hits));
        }
        StructType hit = new StructType().add("value", DataTypes.FloatType).add("example_id", DataTypes.StringType).add("position", DataTypes.IntegerType);
        StructType schema = new StructType().add("latent", DataTypes.IntegerType).add("frequency", DataTypes.DoubleType)
                .add("fires", DataTypes.LongType).add("top", DataTypes.createArrayType(hit));
        spark.createDataFrame(table, schema).coalesce(1).write().mode(SaveMode.Overwrite).parquet(out);
        return total;
    }

    private static void encode(SparseAutoencoder sae, ai.djl.ndarray.NDManager parent, List<Row> batch, ValueDtype dtype, int dIn,
                               FeatureStats stats) {
        try (var m = parent.newSubManager()) {
            float[] flat = new float[batch.size() * dIn];
            String[] ids = new String[batch.size()];
            int[] positions = new int[batch.size()];
            for (int r = 0; r < batch.size(); r++) {
                Row row = batch.get(r);
                System.arraycopy(dtype.decode(row.getAs("values")), 0, flat, r * dIn, dIn);
                ids[r] = row.getAs("example_id");
                positions[r] = row.getAs("position");
            }
            stats.add(sae.encode(m.create(flat, new ai.djl.ndarray.types.Shape(batch.size(), dIn))), ids, positions);
        }
    }
}
