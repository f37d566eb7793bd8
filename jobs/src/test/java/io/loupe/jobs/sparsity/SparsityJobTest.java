package io.loupe.jobs.sparsity;

import ai.djl.Device;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.loupe.TestData;
import io.loupe.forward.Prompt;
import io.loupe.forward.PromptReader;
import io.loupe.model.LanguageModel;
import io.loupe.model.ModelLoader;
import io.loupe.sparsity.SparsityRunner;
import io.loupe.sparsity.SparsitySearch;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sparsity job over a checkpoint series in Spark local mode, and its outputs. */
class SparsityJobTest {
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = SparkSession.builder().master("local[2,4]").appName("sparsity-test").config("spark.ui.enabled", "false").getOrCreate();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void shardedCheckpointSeriesEqualsOneLocalPass(@TempDir Path tmp) throws Exception {
        Path model = TestData.stories();
        List<Prompt> prompts = PromptReader.readJsonl(TestData.vectors().resolve("prompts.jsonl"));
        String uri = model.toUri().toString();
        SparsityJob.Settings s = new SparsityJob.Settings(List.of(uri, uri), 3, 2, 512, 0, 0.2, null, 0.004, "cpu");
        List<SparsityRunner.Report> job = SparsityJob.run(spark, s, prompts, 5);
        SparsityRunner.Report local;
        try (LanguageModel lm = ModelLoader.load(model, Device.cpu())) {
            local = SparsitySearch.local(lm, prompts.stream().map(Prompt::tokenIds).toList(), 2, 0, 0.2, null, 0.004);
        }
        assertEquals(2, job.size());
        for (SparsityRunner.Report r : job) {
            assertEquals(local.tokens(), r.tokens());
            assertEquals(local.lossDense(), r.lossDense(), 1e-6);
            assertEquals(local.lossSparse(), r.lossSparse(), 1e-6);
            assertEquals(local.overallActivationRatio(), r.overallActivationRatio(), 1e-9, "sums of sums: sharding does not change the result");
            for (int l = 0; l < 5; l++) {
                assertEquals(local.layers().get(l).threshold(), r.layers().get(l).threshold(), 1e-9 * local.layers().get(l).threshold());
                assertEquals(local.layers().get(l).nonzeroFraction(), r.layers().get(l).nonzeroFraction(), 1e-12);
                assertArrayEquals(local.layers().get(l).massiveTop3(), r.layers().get(l).massiveTop3());
            }
        }

        Path out = tmp.resolve("out");
        for (int run = 0; run < 2; run++) {   // writing twice replaces, never duplicates
            SparsityOutput.write(spark, List.of(uri, uri), new double[]{1e9, 2e9}, job, out.toString(), 1.0);
        }
        List<Row> rows = spark.read().parquet(out.resolve("layers.parquet").toString()).collectAsList();
        assertEquals(10, rows.size(), "one row per checkpoint x layer");
        JsonObject summary = JsonParser.parseString(Files.readString(out.resolve("summary.json"))).getAsJsonObject();
        JsonObject layer0 = summary.getAsJsonArray("layers").get(0).getAsJsonObject();
        for (String key : new String[]{"layer", "nonzero_fraction", "threshold", "activation_ratio"}) {
            assertTrue(layer0.has(key), key);
        }
        assertEquals(2, summary.getAsJsonArray("checkpoints").size());
        assertTrue(summary.getAsJsonObject("law_fit").get("skipped").getAsString().contains("at least 4"));
        assertTrue(Files.size(out.resolve("plots/activation_ratio_per_layer.png")) > 1000);
    }

    @Test
    void lawFitsOfTheSeriesRecoverAKnownLaw(@TempDir Path tmp) throws Exception {
        // Reports whose overall activation ratio follows the published 0.1B SiLU law: the fit must give its constants back.
        double[] seen = {1e9, 5e9, 2e10, 5e10, 1e11, 2e11};
        List<SparsityRunner.Report> reports = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (double d : seen) {
            double a = -0.102 * Math.pow(d / 1e9, -0.479) + 0.409;
            reports.add(new SparsityRunner.Report(List.of(new SparsityRunner.Layer(0, 1, 0.1, 0.2, a, 0, new float[]{1}, 0.5, false)), 0.2, a, null,
                    2.0, 2.01, 100));
            names.add("file:/ckpt-" + (long) (d / 1e9));
        }
        Path out = tmp.resolve("law");
        SparsityOutput.write(spark, names, seen, reports, out.toString(), 1.0);
        JsonObject silu = JsonParser.parseString(Files.readString(out.resolve("summary.json"))).getAsJsonObject().getAsJsonObject("law_fit")
                .getAsJsonObject("silu");
        assertEquals(0.479, silu.get("alpha").getAsDouble(), 1e-5);
        assertEquals(0.102, silu.get("c").getAsDouble(), 1e-5);
        assertEquals(0.409, silu.get("A0").getAsDouble(), 1e-5);
        assertTrue(Files.size(out.resolve("plots/activation_ratio_vs_tokens.png")) > 1000);
    }
}
