package io.loupe.jobs.circuits;

import ai.djl.Device;
import io.loupe.TestData;
import io.loupe.circuits.Ablation;
import io.loupe.circuits.DirectPatching;
import io.loupe.circuits.Direction;
import io.loupe.circuits.Method;
import io.loupe.circuits.Node;
import io.loupe.circuits.NodeType;
import io.loupe.circuits.ScoreSums;
import io.loupe.circuits.TaskExample;
import io.loupe.circuits.TaskGenerators;
import io.loupe.model.LanguageModel;
import io.loupe.model.ModelLoader;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The circuits job on stories260k with the induction task, against direct computations through the runtime. */
class CircuitsJobTest {
    private static SparkSession spark;

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    @Test
    void patchingScoresEqualADirectComputation(@TempDir Path tmp) throws Exception {
        Path model = TestData.stories();
        spark = SparkSession.builder().master("local[2,4]").appName("circuits-test").config("spark.ui.enabled", "false").getOrCreate();
        try (LanguageModel lm = ModelLoader.load(model, Device.cpu())) {
            List<TaskExample> ex = TaskGenerators.induction(lm.config(), 6, 5, 1,
                    TaskGenerators.wordTokens(model.resolve("tokenizer.json"), lm.config().vocabSize()));
            CircuitsSettings s = new CircuitsSettings(model.toUri().toString(), "induction", EnumSet.of(Method.PATCH, Method.ATTRIB),
                    Direction.DENOISE, List.of(NodeType.values()), 2, 40, 3, 4, Double.NaN, Ablation.MEAN, "cpu");
            CircuitsJob.Result r = CircuitsJob.run(spark, s, ex, 10, lm.config());
            assertEquals(6, r.examples());

            double clean = 0, corrupt = 0;
            for (TaskExample e : ex) {
                clean += DirectPatching.patched(lm, e, null, Direction.NOISE) / ex.size();
                corrupt += DirectPatching.patched(lm, e, null, Direction.DENOISE) / ex.size();
            }
            ScoreSums patch = r.scores().get(Method.PATCH);
            assertEquals(clean, patch.meanClean(), 1e-4);
            assertEquals(corrupt, patch.meanCorrupt(), 1e-4);
            List<ScoreSums.Score> scores = patch.scores();
            assertEquals(5 * (10 + 1 + 1 + 8), scores.size(), "every node of every type, once");
            for (int i = 0; i < scores.size(); i += 5) {
                Node n = scores.get(i).node();
                double effect = 0;
                for (TaskExample e : ex) {
                    effect += (DirectPatching.patched(lm, e, n, Direction.DENOISE) - DirectPatching.patched(lm, e, null, Direction.DENOISE)) / ex.size();
                }
                assertEquals(effect, scores.get(i).effect(), 1e-4, n.name());
                assertEquals(effect / (clean - corrupt), scores.get(i).score(), 1e-3 * Math.max(1, Math.abs(scores.get(i).score())), n.name());
            }
            assertEquals(4, r.circuits().get(Method.PATCH).size());
            assertTrue(Double.isFinite(r.evaluation().faithfulness()) && r.evaluation().examples() == 6);

            Path out = tmp.resolve("out");
            for (int run = 0; run < 2; run++) {   // writing twice replaces, never duplicates
                CircuitsOutput.write(spark, s, r, lm.config(), 10, out.toString(), 1.0, null);
            }
            List<Row> rows = spark.read().parquet(out.resolve("scores.parquet").toString()).collectAsList();
            assertEquals(2 * scores.size(), rows.size());
            String summary = Files.readString(out.resolve("summary.json"));
            for (String key : new String[]{"\"pearson_patch_vs_attrib\"", "\"faithfulness\"", "\"completeness\"", "\"circuit_overlap\"", "\"iou\""}) {
                assertTrue(summary.contains(key), key + " missing");
            }
            for (String png : new String[]{"patch_resid_pre.png", "patch_heads.png", "attrib_attn_mlp.png"}) {
                assertTrue(Files.size(out.resolve("plots").resolve(png)) > 1000, png);
            }
        }
    }
}
