package io.loupe.cli;

import io.loupe.dict.SaeLensConfig;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** fit-e2e from prompts on stories260k: one Spark task per objective, fit's results table, a re-run that replaces, and input checks. */
class FitE2eCommandTest {
    @Test
    void endToEndGridWritesCheckpointsAndOneResultRowEach(@TempDir Path tmp) throws Exception {
        String model = io.loupe.TestData.shared().resolve("models/stories260k").toString();
        Path corpus = tmp.resolve("stories.jsonl"), out = tmp.resolve("e2e");
        assertEquals(0, Loupe.execute("make-prompts", "--model", model, "--count", "24", "--tokens", "32", "--out", corpus.toString()));
        String[] args = {"fit-e2e", "--prompts", corpus.toString(), "--model", model, "--hook", "blocks.2.hook_resid_post", "--objective",
            "e2e,e2e+ds", "--width", "64", "--k", "8", "--steps", "12", "--sequences", "4", "--eval-fraction", "0.25", "--out", out.toString(),
            "--master", "local[2,4]"};
        assertEquals(0, Loupe.execute(args));
        assertEquals(0, Loupe.execute(args), "a re-run replaces, it does not add");
        SparkSession spark = io.loupe.jobs.SparkSessions.getOrCreate("e2e test", "local[2,4]");
        List<Row> rows = spark.read().parquet(out.resolve("results.parquet").toString()).orderBy("name")
                .select("name", "objective", "mean_l0", "ce_loss_recovered", "downstream_hooks").collectAsList();
        assertEquals(2, rows.size(), "one row per configuration: " + rows);
        assertEquals("e2e", rows.get(0).getString(1));
        assertEquals("e2e+ds", rows.get(1).getString(1));
        assertEquals(List.of("blocks.3.hook_resid_post", "blocks.4.hook_resid_post"), rows.get(1).getList(4));
        for (Row r : rows) {
            assertEquals(8.0, r.getDouble(2), 1e-9, "TopK k=8");
            assertTrue(Double.isFinite(r.getDouble(3)), "CE loss recovered on held-out prompts");
            Path ckpt = out.resolve(r.getString(0));
            assertTrue(Files.exists(ckpt.resolve("sae_weights.safetensors")), ckpt + " has weights");
            assertEquals("blocks.2.hook_resid_post", SaeLensConfig.hookName(SaeLensConfig.parse(Files.readString(ckpt.resolve("cfg.json")))));
        }
        try (var dirs = Files.list(out)) {
            assertEquals(2, dirs.filter(d -> Files.exists(d.resolve("cfg.json"))).count(), "two checkpoint folders, no leftovers");
        }
        assertTrue(Files.exists(out.resolve("report.html")) && Files.exists(out.resolve("results.csv")));

        CliRun gated = CliRun.of("fit-e2e", "--prompts", corpus.toString(), "--model", model, "--hook", "blocks.2.hook_resid_post",
                "--architecture", "gated", "--out", tmp.resolve("x").toString());
        assertEquals(2, gated.code());
        assertTrue(gated.err().contains("end-to-end training takes relu or topk"), gated.err());
        CliRun last = CliRun.of("fit-e2e", "--prompts", corpus.toString(), "--model", model, "--hook", "blocks.4.hook_resid_post",
                "--objective", "e2e+ds", "--out", tmp.resolve("y").toString());
        assertEquals(2, last.code());
        assertTrue(last.err().contains("no later layer"), last.err());
    }
}
