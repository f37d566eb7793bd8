package io.loupe.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.loupe.model.LanguageModel;
import io.loupe.model.ModelLoader;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code loupe train} end to end on a tiny random-init model and a token-id corpus (no ../shared needed). */
class TrainCommandTest {
    private static final String INIT = "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 32, \"intermediate_size\": 64,"
            + " \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"vocab_size\": 64, \"rms_norm_eps\": 1e-5,"
            + " \"tie_word_embeddings\": false, \"bos_token_id\": 1, \"eos_token_id\": 2%s}";

    /** A two-run sweep: two Spark tasks, log-spaced checkpoint series that load, one table of every step, a summary. */
    @Test
    void sweepWritesCheckpointSeriesAndRunsTable(@TempDir Path tmp) throws IOException {
        Path init = write(tmp.resolve("init.json"), String.format(INIT, ""));
        Path corpus = corpus(tmp.resolve("corpus.jsonl"), 40, 30, 7);   // ids 3..6 only: a learnable unigram (entropy ln 4 = 1.39)
        Path out = tmp.resolve("train");
        assertEquals(0, Loupe.execute("train", "--init", init.toString(), "--corpus", corpus.toString(), "--context-size", "16", "--batch-size", "4",
                "--steps", "20", "--lr", "1e-2", "--seed", "1,2", "--hidden-act", "relu", "--checkpoints", "4", "--eval-fraction", "0.1",
                "--out", out.toString(), "--master", "local[2,4]"));
        List<Row> rows = SparkSession.builder().getOrCreate().read().parquet(out.resolve("runs.parquet").toString()).collectAsList();
        assertEquals(40, rows.size(), "20 steps x 2 runs");
        JsonObject summary = JsonParser.parseString(Files.readString(out.resolve("summary.json"))).getAsJsonObject();
        assertEquals(2, summary.getAsJsonArray("runs").size());
        assertTrue(Files.isRegularFile(out.resolve("plots/loss.png")));
        for (String run : new String[]{"relu_lr0.01_seed1", "relu_lr0.01_seed2"}) {
            // 4 log-spaced targets between step 1's 64 tokens and 1280: 64, 174, 472, 1280 tokens -> steps 1, 3, 8, 20
            for (int step : new int[]{1, 3, 8, 20}) {
                Path ckpt = out.resolve(run).resolve("step" + step);
                JsonObject cfg = JsonParser.parseString(Files.readString(ckpt.resolve("config.json"))).getAsJsonObject();
                assertEquals(64L * step, cfg.get("tokens_seen").getAsLong(), ckpt.toString());
                assertEquals("relu", cfg.get("hidden_act").getAsString());
                try (LanguageModel m = ModelLoader.load(ckpt, ai.djl.Device.cpu())) {
                    assertEquals(64, m.config().vocabSize());
                }
            }
            assertFalse(Files.exists(out.resolve("_state")), "a finished sweep keeps no training state");
            List<Row> runRows = rows.stream().filter(r -> r.getString(0).equals(run)).toList();
            double first = runRows.stream().filter(r -> r.getInt(1) == 1).findFirst().orElseThrow().getDouble(3);
            double last = runRows.stream().filter(r -> r.getInt(1) == 20).findFirst().orElseThrow().getDouble(3);
            assertTrue(first > 3.5 && last < 2.5, run + ": loss " + first + " -> " + last + " (a fresh model starts near ln 64 = 4.16)");
        }
    }

    /**
     * The first attempt of the task is killed after the state of step 8 is saved; Spark's retry must resume at step 8
     * (the summary says so: proof the failure fired and the state was used) and end with a clean run's exact weights.
     */
    @Test
    void killedTaskResumesToTheSameWeights(@TempDir Path tmp) throws IOException {
        Path init = write(tmp.resolve("init.json"), String.format(INIT, ""));
        Path corpus = corpus(tmp.resolve("corpus.jsonl"), 24, 30, 64);
        String[] common = {"train", "--init", init.toString(), "--corpus", corpus.toString(), "--context-size", "16", "--batch-size", "4",
            "--steps", "12", "--lr", "3e-3", "--state-every", "4", "--master", "local[2,4]"};
        Path clean = tmp.resolve("clean"), killed = tmp.resolve("killed");
        assertEquals(0, Loupe.execute(concat(common, "--out", clean.toString())));
        assertEquals(0, Loupe.execute(concat(common, "--out", killed.toString(), "--fail-once-at-step", "8")));
        JsonObject run = JsonParser.parseString(Files.readString(killed.resolve("summary.json"))).getAsJsonObject().getAsJsonArray("runs")
                .get(0).getAsJsonObject();
        assertEquals(8, run.get("resumed_from_step").getAsInt(), "the retry continued from the saved state");
        assertEquals(0, JsonParser.parseString(Files.readString(clean.resolve("summary.json"))).getAsJsonObject().getAsJsonArray("runs")
                .get(0).getAsJsonObject().get("resumed_from_step").getAsInt());
        String dir = "lr0.003_seed0/step12/model.safetensors";
        assertArrayEquals(Files.readAllBytes(clean.resolve(dir)), Files.readAllBytes(killed.resolve(dir)));
        assertEquals(12, SparkSession.builder().getOrCreate().read().parquet(killed.resolve("runs.parquet").toString()).count(),
                "every step logged once across the two attempts");
    }

    /** Bad input fails before training with one clear line, and leaves no summary that looks complete. */
    @Test
    void badInputIsRefusedClearly(@TempDir Path tmp) throws IOException {
        Path init = write(tmp.resolve("init.json"), String.format(INIT, ""));
        Path out = tmp.resolve("out");
        Path small = corpus(tmp.resolve("small.jsonl"), 1, 10, 64);
        CliRun.assertRefused("fewer than one context of 16", "train", "--init", init.toString(), "--corpus", small.toString(), "--context-size", "16",
                "--out", out.toString(), "--master", "local[2,4]");
        Path wide = corpus(tmp.resolve("wide.jsonl"), 8, 30, 512);
        CliRun.assertRefused("outside the model's vocabulary [0, 64)", "train", "--init", init.toString(), "--corpus", wide.toString(),
                "--context-size", "16", "--out", out.toString(), "--master", "local[2,4]");
        Path scaled = write(tmp.resolve("scaled.json"), String.format(INIT, ", \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2}"));
        CliRun.assertRefused("rope_scaling", "train", "--init", scaled.toString(), "--corpus", wide.toString(), "--out", out.toString(),
                "--master", "local[2,4]");
        Path text = write(tmp.resolve("text.jsonl"), "{\"id\": \"a\", \"text\": \"no tokenizer for this\"}\n");
        CliRun.assertRefused("no tokenizer was given", "train", "--init", init.toString(), "--corpus", text.toString(), "--context-size", "4",
                "--out", out.toString(), "--master", "local[2,4]");
        assertFalse(Files.exists(out.resolve("summary.json")));
    }


    /** {@code n} documents of {@code len} random token ids (BOS first) below {@code vocab}. */
    private static Path corpus(Path file, int n, int len, int vocab) throws IOException {
        Random r = new Random(n);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            long[] ids = new long[len];
            ids[0] = 1;
            for (int t = 1; t < len; t++) {
                ids[t] = 3 + r.nextInt(vocab - 3);
            }
            sb.append("{\"id\": \"d").append(i).append("\", \"token_ids\": ").append(Arrays.toString(ids)).append("}\n");
        }
        return write(file, sb.toString());
    }

    private static Path write(Path file, String text) throws IOException {
        Files.writeString(file, text);
        return file;
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
