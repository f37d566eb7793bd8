package io.loupe.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The unlearning pipeline end to end on the embedded stories260k model with a tiny fixture: data, prepare, a two-method
 * grid, the score. Checks values that have to come out exactly (the retrain model against itself, the target against
 * itself) and the files' shapes; then the bad inputs.
 */
class UnlearnCommandTest {
    private static Path model() {
        Path p = Path.of("../models/stories260k").toAbsolutePath().normalize();
        Assumptions.assumeTrue(Files.isRegularFile(p.resolve("model.safetensors")), "models/stories260k not found in the checkout");
        return p;
    }

    @Test
    void dataPrepareGridAndScore(@TempDir Path tmp) throws IOException {
        String model = model().toString(), data = tmp.resolve("data").toString(), models = tmp.resolve("models").toString();
        assertEquals(0, Loupe.execute("make-unlearning-data", "--model", model, "--characters", "8", "--forget-fraction", "0.15",
                "--holdout-fraction", "0.15", "--out", data));
        List<String> forget = Files.readAllLines(Path.of(data, "forget.jsonl"));
        assertEquals(13, forget.size(), "one character: a story, 6 fact sentences, 6 QA rows");
        assertEquals(0, Loupe.execute("unlearn", "prepare", "--model", model, "--forget", data + "/forget.jsonl", "--retain", data + "/retain.jsonl",
                "--steps", "40", "--batch-size", "8", "--out", models, "--master", "local[2,4]"));
        JsonObject prep = JsonParser.parseString(Files.readString(Path.of(models, "summary.json"))).getAsJsonObject();
        var check = prep.getAsJsonObject("settings").getAsJsonArray("fact_check");
        double targetForget = check.get(1).getAsJsonObject().get("forget_nll").getAsDouble();
        double retrainForget = check.get(2).getAsJsonObject().get("forget_nll").getAsDouble();
        assertTrue(targetForget < retrainForget, "the target learned the forget rows: " + targetForget + " vs " + retrainForget);

        Path grid = tmp.resolve("unlearned");
        assertEquals(0, Loupe.execute("unlearn", "--target", models + "/target", "--forget", data + "/forget.jsonl", "--retain",
                data + "/retain.jsonl", "--method", "ga,npo_rt", "--lr", "1e-3", "--steps", "6", "--batch-size", "4", "--out", grid.toString(),
                "--master", "local[2,4]"));
        for (String run : new String[]{"ga_lr0.001_steps6", "npo_rt_lr0.001_steps6"}) {
            assertTrue(Files.isRegularFile(grid.resolve(run).resolve("model.safetensors")), run);
            assertTrue(Files.isRegularFile(grid.resolve(run).resolve("config.json")), run);
        }
        Path score = tmp.resolve("score");
        assertEquals(0, Loupe.execute("unlearning", "score", "--models", grid.resolve("ga_lr0.001_steps6") + "," + grid.resolve("npo_rt_lr0.001_steps6"),
                "--target", models + "/target", "--retrain", models + "/retrain", "--forget", data + "/forget.jsonl", "--retain",
                data + "/retain.jsonl", "--holdout", data + "/holdout.jsonl", "--relearn-steps", "2", "--concept-top", "10", "--probe-folds", "3",
                "--min-k", "0.2,0.4", "--shards", "2", "--out", score.toString(), "--master", "local[2,4]"));
        JsonObject summary = JsonParser.parseString(Files.readString(score.resolve("summary.json"))).getAsJsonObject();
        JsonObject ms = summary.getAsJsonObject("models");
        assertEquals(List.of("target", "retrain", "ga_lr0.001_steps6", "npo_rt_lr0.001_steps6"), List.copyOf(ms.keySet()));
        JsonObject retrain = ms.getAsJsonObject("retrain"), target = ms.getAsJsonObject("target");
        assertEquals(0.0, retrain.get("privleak").getAsDouble(), 1e-12, "the retrain model against itself");
        assertEquals(1.0, retrain.get("forget_quality").getAsDouble(), 1e-12, "identical truth ratios: KS p = 1");
        for (var v : target.getAsJsonObject("cka").getAsJsonObject("forget").getAsJsonObject("target").getAsJsonArray("tokens")) {
            assertEquals(1.0, v.getAsDouble(), 1e-9, "the target against itself");
        }
        assertEquals(1.0, target.getAsJsonObject("concept_vectors").get("meanCosine").getAsDouble(), 1e-9);
        assertEquals(0, target.get("relearn_steps").getAsInt(), "the target is at its own forget NLL before relearning");
        assertTrue(ms.getAsJsonObject("ga_lr0.001_steps6").get("nll_forget").getAsDouble() > target.get("nll_forget").getAsDouble(),
                "gradient ascent raised the forget NLL");
        List<String> board = Files.readAllLines(score.resolve("leaderboard.csv"));
        assertEquals(5, board.size(), "a header and one row per model: " + board);
        assertTrue(board.get(0).startsWith("model,role,forget_quality,model_utility,privleak"), board.get(0));
        long rows = SparkSession.builder().getOrCreate().read().parquet(score.resolve("examples.parquet").toString()).count();
        int examples = forget.size() + Files.readAllLines(Path.of(data, "retain.jsonl")).size() + Files.readAllLines(Path.of(data, "holdout.jsonl")).size();
        assertEquals(4L * examples, rows, "one row per model and example");
        assertTrue(Files.isRegularFile(score.resolve("plots/forget_quality_vs_utility.png")));
        assertTrue(Files.isRegularFile(score.resolve("plots/cka_forget_vs_target.png")));
    }

    @Test
    void badInputsAreRefused(@TempDir Path tmp) throws IOException {
        String model = model().toString(), data = tmp.resolve("data").toString();
        assertEquals(0, Loupe.execute("make-unlearning-data", "--model", model, "--characters", "6", "--forget-fraction", "0.2",
                "--holdout-fraction", "0.2", "--out", data));
        Path overlap = tmp.resolve("overlap.jsonl");
        Files.writeString(overlap, Files.readString(Path.of(data, "retain.jsonl")) + Files.readAllLines(Path.of(data, "forget.jsonl")).get(0) + "\n");
        CliRun.assertRefused("share the id", "unlearn", "prepare", "--model", model, "--forget", data + "/forget.jsonl", "--retain", overlap.toString(),
                "--out", tmp.resolve("x").toString(), "--master", "local[2,4]");
        CliRun.assertRefused("unknown unlearning method 'sgd'", "unlearn", "--target", model, "--forget", data + "/forget.jsonl", "--retain",
                data + "/retain.jsonl", "--method", "ga,sgd", "--out", tmp.resolve("y").toString());
        Path empty = tmp.resolve("empty.jsonl");
        Files.writeString(empty, "");
        CliRun.assertRefused("has no rows", "unlearn", "--target", model, "--forget", empty.toString(), "--retain", data + "/retain.jsonl", "--method", "ga",
                "--out", tmp.resolve("z").toString(), "--master", "local[2,4]");
        Path other = tmp.resolve("wide");
        assertEquals(0, Loupe.execute("make-model", "--layers", "1", "--d-model", "16", "--heads", "2", "--d-mlp", "32", "--vocab", "320", "--out",
                other.toString()));
        CliRun.assertRefused("has a vocabulary of 320 tokens", "unlearning", "score", "--models", other.toString(), "--target", model, "--retrain", model,
                "--forget", data + "/forget.jsonl", "--retain", data + "/retain.jsonl", "--holdout", data + "/holdout.jsonl", "--out",
                tmp.resolve("s").toString(), "--master", "local[2,4]");
        assertFalse(Files.exists(tmp.resolve("s").resolve("summary.json")));
    }

}
