package io.loupe.api;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.loupe.cli.Loupe;
import io.loupe.dict.SaeLensConfig;
import io.loupe.dict.SparseAutoencoder;
import io.loupe.jobs.SparkSessions;
import io.loupe.model.Runtime;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The DataFrame API on a real collect and fit (stories260k): {@link LoupeFrames#activations} decodes every stored row,
 * and {@link DictionaryEncoder} gives, row by row, the nonzero codes of the checkpoint encoding those values directly.
 */
class DataFrameApiTest {
    @Test
    void activationsThenCodes(@TempDir Path tmp) throws Exception {
        String model = io.loupe.TestData.shared().resolve("models/stories260k").toString();
        Path corpus = tmp.resolve("stories.jsonl"), acts = tmp.resolve("acts"), fit = tmp.resolve("fit");
        String hook = "blocks.2.hook_resid_post";
        assertEquals(0, Loupe.execute("make-prompts", "--model", model, "--count", "12", "--tokens", "32", "--out", corpus.toString()));
        assertEquals(0, Loupe.execute("collect", "--input", corpus.toString(), "--model", model, "--hooks", hook + ",blocks.1.hook_mlp_out",
                "--out", acts.toString(), "--master", "local[2,4]"));
        assertEquals(0, Loupe.execute("fit", "--activations", acts.toString(), "--hook", hook, "--model", model, "--width", "64", "--k", "4",
                "--steps", "20", "--batch-size", "64", "--eval-fraction", "0.3", "--out", fit.toString(), "--master", "local[2,4]"));
        Path ckpt;
        try (var dirs = Files.list(fit)) {
            ckpt = dirs.filter(Files::isDirectory).findFirst().orElseThrow();
        }
        SparkSession spark = SparkSessions.getOrCreate("api test", "local[2,4]");

        Dataset<Row> rows = LoupeFrames.activations(spark, acts.toString());
        long stored = spark.read().parquet(acts.toString()).count();
        assertEquals(stored, rows.count(), "every stored row, decoded");
        Row first = rows.where("hook = '" + hook + "'").orderBy("example_id", "position").first();
        assertEquals(64, first.getList(first.fieldIndex("values")).size(), "d_model floats per row");

        Dataset<Row> codes = new DictionaryEncoder().setCheckpoint(ckpt.toString()).transform(rows).orderBy("example_id", "position");
        assertEquals(rows.where("hook = '" + hook + "'").count(), codes.count(), "only the dictionary's hook is encoded");
        List<Row> some = codes.limit(40).collectAsList();
        var cfg = SaeLensConfig.loupeConfig(SaeLensConfig.parse(Files.readString(ckpt.resolve("cfg.json"))));
        try (NDManager m = Runtime.newManager(ai.djl.Device.cpu()); SparseAutoencoder sae = SparseAutoencoder.load(ckpt, cfg, m)) {
            for (Row r : some) {
                List<Float> v = r.getList(r.fieldIndex("values"));
                float[] x = new float[v.size()];
                for (int i = 0; i < x.length; i++) {
                    x[i] = v.get(i);
                }
                float[] direct = sae.encode(m.create(x, new Shape(1, x.length))).toFloatArray();
                List<Integer> latents = r.getList(r.fieldIndex("latents"));
                List<Float> values = r.getList(r.fieldIndex("latent_values"));
                assertTrue(latents.size() <= 4, "TopK k=4 keeps at most 4 latents: " + latents);
                float[] rebuilt = new float[direct.length];
                for (int j = 0; j < latents.size(); j++) {
                    rebuilt[latents.get(j)] = values.get(j);
                }
                assertArrayEquals(direct, rebuilt, 1e-5f, "row " + r.getAs("example_id") + "@" + r.getAs("position"));
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new DictionaryEncoder().setCheckpoint(ckpt.toString()).setInputCol("nope").transform(rows));

        // Readers: the dictionary's latents are W_dec's rows and W_enc's columns, as saved.
        List<Row> latents = LoupeFrames.dictionary(spark, ckpt.toString()).orderBy("latent").collectAsList();
        assertEquals(64, latents.size());
        var st = io.loupe.tensor.SafetensorsFile.open(ckpt.resolve("sae_weights.safetensors"));
        try (NDManager m = Runtime.newManager(ai.djl.Device.cpu())) {
            float[] wDec = st.load(m, "W_dec", ai.djl.ndarray.types.DataType.FLOAT32).toFloatArray();
            float[] wEnc = st.load(m, "W_enc", ai.djl.ndarray.types.DataType.FLOAT32).toFloatArray();
            for (int j : new int[]{0, 17, 63}) {
                Row r = latents.get(j);
                List<Float> dec = r.getList(r.fieldIndex("decoder")), enc = r.getList(r.fieldIndex("encoder"));
                assertEquals(j, r.getInt(r.fieldIndex("latent")));
                assertEquals(wDec[j * 64 + 5], dec.get(5), 0f, "W_dec row " + j);
                assertEquals(wEnc[5 * 64 + j], enc.get(5), 0f, "W_enc column " + j);
            }
        }
        assertEquals(1, LoupeFrames.fitResults(spark, fit.toString()).count());
        assertEquals(1, LoupeFrames.open(spark, fit.toString()).count(), "a fit folder opens as its results");
        assertEquals(stored, LoupeFrames.open(spark, acts.toString()).count(), "a collect folder opens as its activations");
        assertTrue(LoupeFrames.manifest(spark, acts.toString()).select("model").first().getString(0).endsWith("stories260k"));
        IllegalArgumentException notOutput = assertThrows(IllegalArgumentException.class, () -> LoupeFrames.open(spark, corpus.getParent().toString()));
        assertTrue(notOutput.getMessage().contains("not a Loupe output"), notOutput.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LoupeFrames.fitResults(spark, acts.toString()));

        // The collector on a prompt DataFrame gives the rows collect wrote, by (example, position, hook), values to rounding.
        Dataset<Row> viaApi = new ActivationCollector().setModel(model).setHooks(hook, "blocks.1.hook_mlp_out").setBatchSize(5)
                .transform(spark.read().json(corpus.toString()));
        assertEquals(stored, viaApi.count());
        List<Row> pairs = viaApi.as("a").join(rows.as("b"), org.apache.spark.sql.functions.expr(
                "a.example_id = b.example_id AND a.position = b.position AND a.hook = b.hook")).select("a.values", "b.values").collectAsList();
        assertEquals(stored, pairs.size(), "every row matched by example, position and hook");
        for (Row pr : pairs) {
            List<Float> a = pr.getList(0), b = pr.getList(1);
            for (int i = 0; i < a.size(); i++) {
                assertEquals(b.get(i), a.get(i), 1e-4f * Math.max(1f, Math.abs(b.get(i))));
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new ActivationCollector().setModel(model).setHooks(hook)
                .transform(spark.read().json(corpus.toString()).select("id")));
    }
}
