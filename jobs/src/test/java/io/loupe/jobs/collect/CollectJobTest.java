package io.loupe.jobs.collect;

import io.loupe.collect.ValueDtype;
import io.loupe.tensor.SafetensorsFile;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The collect job in Spark local mode (2 cores, 4 attempts per task) on stories260k and its reference vectors. */
class CollectJobTest {
    private static final List<String> HOOKS = List.of("blocks.0.hook_resid_pre", "blocks.2.attn.hook_z", "blocks.3.mlp.hook_post",
            "blocks.4.hook_resid_post");
    private static SparkSession spark;
    private static Path shared;

    @BeforeAll
    static void start() {
        shared = io.loupe.TestData.sharedOrNull();
        if (shared != null) {
            spark = SparkSession.builder().master("local[2,4]").appName("collect-test").config("spark.ui.enabled", "false")
                    .config("spark.sql.shuffle.partitions", "2").getOrCreate();
        }
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    private static Path model() {
        return io.loupe.TestData.stories();
    }

    private static Path prompts() {
        return io.loupe.TestData.vectors().resolve("prompts.jsonl");
    }

    private static CollectOptions options(Path input, Path out, ValueDtype dtype, String mode, int fail, int stop, long chunkSize,
                                          int contextSize, List<String> hooks) {
        return new CollectOptions(input.toString(), "auto", model().toString(), hooks, out.toString(), dtype, 3, 0, contextSize, 2, 2,
                chunkSize, mode, "cpu", "snappy", fail, stop);
    }

    private static CollectOptions options(Path out, ValueDtype dtype) {
        return options(prompts(), out, dtype, "error", -1, -1, 50_000, 0, HOOKS);
    }

    @Test
    void float32ValuesMatchTheReferenceAndRowCountsAreExact(@TempDir Path tmp) throws IOException {
        compareWithReference(tmp.resolve("f32"), ValueDtype.FLOAT32, 1e-4, 0);
    }

    @Test
    void bfloat16ValuesAreWithinOnePercent(@TempDir Path tmp) throws IOException {
        compareWithReference(tmp.resolve("bf16"), ValueDtype.BFLOAT16, 1e-4, 1e-2);
    }

    private void compareWithReference(Path out, ValueDtype dtype, double abs, double rel) throws IOException {
        CollectJob.Summary s = CollectJob.run(spark, options(out, dtype));
        SafetensorsFile ref = SafetensorsFile.open(io.loupe.TestData.vectors().resolve("reference.safetensors"));
        long tokens = 16 + 22 + 21 + 30;
        assertEquals(tokens * HOOKS.size(), s.rows());
        List<Row> rows = spark.read().parquet(out.toString()).collectAsList();
        assertEquals(tokens * HOOKS.size(), rows.size());
        Map<String, float[]> cache = new HashMap<>();
        for (Row r : rows) {
            String key = r.getAs("example_id") + "." + r.getAs("hook");
            float[] all = cache.computeIfAbsent(key, k -> floats(ref, k));
            float[] got = dtype.decode(r.getAs("values"));
            int pos = r.getAs("position");
            for (int i = 0; i < got.length; i++) {
                float want = all[pos * got.length + i];
                assertTrue(Math.abs(got[i] - want) <= abs + rel * Math.abs(want), key + " " + pos + "[" + i + "] " + got[i] + " vs " + want);
            }
        }
        String manifest = Files.readString(out.resolve("_loupe.json"));
        assertTrue(manifest.contains("\"dtype\": \"" + dtype.label() + "\"") && manifest.contains("\"width\": 172"), manifest);
        var meta = spark.read().parquet(out.toString()).schema().apply("values").metadata();
        assertEquals(dtype.label(), meta.getString("loupe.dtype"));
        assertTrue(meta.getString("loupe.widths").contains("\"blocks.3.mlp.hook_post\":172"));
        // What pyarrow sees: the Parquet footer's key-value metadata of any data file.
        Path file;
        try (var files = Files.walk(out)) {
            file = files.filter(p -> p.toString().endsWith(".parquet")).findFirst().orElseThrow();
        }
        try (var reader = org.apache.parquet.hadoop.ParquetFileReader.open(org.apache.parquet.hadoop.util.HadoopInputFile.fromPath(
                new org.apache.hadoop.fs.Path(file.toUri()), new org.apache.hadoop.conf.Configuration()))) {
            String footer = reader.getFooter().getFileMetaData().getKeyValueMetaData().get("org.apache.spark.sql.parquet.row.metadata");
            assertTrue(footer.contains("\"loupe.dtype\":\"" + dtype.label() + "\""), footer);
        }
    }

    @Test
    void aFailedTaskRetriesToTheSameOutputAsACleanRun(@TempDir Path tmp) throws Exception {
        Path clean = tmp.resolve("clean"), faulty = tmp.resolve("faulty");
        CollectJob.run(spark, options(clean, ValueDtype.BFLOAT16));
        java.util.concurrent.atomic.AtomicInteger injected = new java.util.concurrent.atomic.AtomicInteger();
        org.apache.spark.scheduler.SparkListener counter = new org.apache.spark.scheduler.SparkListener() {
            @Override
            public void onTaskEnd(org.apache.spark.scheduler.SparkListenerTaskEnd end) {
                if (end.reason() instanceof org.apache.spark.ExceptionFailure f && f.description().contains("injected failure")) {
                    injected.incrementAndGet();
                }
            }
        };
        spark.sparkContext().addSparkListener(counter);
        try {
            CollectJob.run(spark, options(prompts(), faulty, ValueDtype.BFLOAT16, "error", 1, -1, 50_000, 0, HOOKS));
            spark.sparkContext().listenerBus().waitUntilEmpty();
        } finally {
            spark.sparkContext().removeSparkListener(counter);
        }
        assertEquals(1, injected.get(), "the injected failure fired once (otherwise equal outputs would prove nothing about the retry)");
        assertEquals(canonical(clean), canonical(faulty));
    }

    @Test
    void existingOutputIsRefusedOverwrittenOrResumed(@TempDir Path tmp) throws IOException {
        Path clean = tmp.resolve("clean"), out = tmp.resolve("out");
        CollectJob.run(spark, options(clean, ValueDtype.FLOAT32));
        // Two chunks of two prompts; the "driver dies" after the first committed chunk.
        CollectJob.Summary first = CollectJob.run(spark, options(prompts(), out, ValueDtype.FLOAT32, "error", -1, 1, 2, 0, HOOKS));
        assertEquals(2, first.chunks());
        assertTrue(first.examples() > 0 && first.examples() < 4);
        // The partial dataset says so, has no _SUCCESS, and readers refuse it unless allowed.
        var hconf = new org.apache.hadoop.conf.Configuration();
        assertIncomplete(hconf, out, "committed 1 of 2 chunks");
        assertEquals(first.examples(), Manifest.readForUse(hconf, out.toString(), true).getAsJsonObject("counts").get("examples").getAsLong());
        assertTrue(Manifest.readForUse(hconf, clean.toString(), false).get("complete").getAsBoolean());
        assertTrue(Files.exists(clean.resolve("_SUCCESS")));
        var e = assertThrows(IllegalArgumentException.class, () -> CollectJob.run(spark, options(out, ValueDtype.FLOAT32)));
        assertTrue(e.getMessage().contains("--mode overwrite") && e.getMessage().contains("--mode resume"), e.getMessage());
        var other = assertThrows(IllegalArgumentException.class, () -> CollectJob.run(spark,
                options(prompts(), out, ValueDtype.BFLOAT16, "resume", -1, -1, 2, 0, HOOKS)));
        assertTrue(other.getMessage().contains("other settings"), other.getMessage());
        CollectJob.Summary rest = CollectJob.run(spark, options(prompts(), out, ValueDtype.FLOAT32, "resume", -1, -1, 2, 0, HOOKS));
        assertEquals(4 - first.examples(), rest.examples());
        assertEquals(first.examples(), rest.resumedExamples());
        assertEquals(canonical(clean), canonical(out));
        assertTrue(Manifest.readForUse(hconf, out.toString(), false).get("complete").getAsBoolean(), "the resumed run flips it when done");
        assertTrue(Files.exists(out.resolve("_SUCCESS")));
        CollectJob.Summary again = CollectJob.run(spark, options(prompts(), out, ValueDtype.FLOAT32, "resume", -1, -1, 2, 0, HOOKS));
        assertEquals(0, again.examples());
        assertEquals(canonical(clean), canonical(out));
        CollectJob.Summary over = CollectJob.run(spark, options(prompts(), out, ValueDtype.FLOAT32, "overwrite", -1, -1, 50_000, 0, HOOKS));
        assertEquals(canonical(clean), canonical(out));
        var counts = Manifest.read(new org.apache.hadoop.conf.Configuration(), out.toString()).getAsJsonObject("counts");
        assertEquals(over.tokens(), counts.get("tokens").getAsLong(), "an overwrite counts only what it wrote, not the replaced run's rows too");
    }

    private static void assertIncomplete(org.apache.hadoop.conf.Configuration hconf, Path out, String says) throws IOException {
        assertEquals(false, Manifest.read(hconf, out.toString()).get("complete").getAsBoolean());
        assertTrue(Files.notExists(out.resolve("_SUCCESS")), "no _SUCCESS on a partial dataset");
        var refused = assertThrows(IllegalArgumentException.class, () -> Manifest.readForUse(hconf, out.toString(), false));
        assertTrue(refused.getMessage().contains(says) && refused.getMessage().contains("--allow-incomplete"), refused.getMessage());
    }

    @Test
    void badInputIsCountedOrRefusedWithAClearMessage(@TempDir Path tmp) throws IOException {
        Path in = tmp.resolve("bad.jsonl");
        byte[] badUtf8 = "{\"id\": \"u\", \"text\": \"caf\u00e9 \"}\n".getBytes(StandardCharsets.UTF_8);
        badUtf8[badUtf8.length - 5] = (byte) 0xFF;   // breaks the two-byte é
        Files.write(in, concat(("""
                {"id": "ok1", "text": "Once upon a time"}
                {"text": "no id"}
                {"id": "e", "text": ""}
                {"id": "n"}
                {"id": "broken", "text": 
                {"id": "ok2", "token_ids": [1, 403, 407]}
                """).getBytes(StandardCharsets.UTF_8), badUtf8));
        CollectJob.Summary s = CollectJob.run(spark, options(in, tmp.resolve("o1"), ValueDtype.FLOAT32, "error", -1, -1, 50_000, 0,
                HOOKS.subList(0, 1)));
        assertEquals(2, s.examples());
        long skipped = s.skipped().values().stream().mapToLong(Long::longValue).sum();
        assertEquals(5, skipped, s.skipped().toString());
        assertEquals(1L, s.skipped().get("missing_id"));
        assertEquals(1L, s.skipped().get("empty_text"));
        assertEquals(1L, s.skipped().get("missing_text"));
        assertTrue(s.skipped().getOrDefault("malformed_json_or_utf8", 0L) + s.skipped().getOrDefault("invalid_utf8", 0L) == 2,
                s.skipped().toString());

        Path dup = tmp.resolve("dup.jsonl");
        Files.writeString(dup, "{\"id\": \"a\", \"text\": \"x\"}\n{\"id\": \"a\", \"text\": \"y\"}\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CollectJob.run(spark, options(dup, tmp.resolve("o2"), ValueDtype.FLOAT32,
                "error", -1, -1, 50_000, 0, HOOKS))).getMessage().contains("duplicate ids"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CollectJob.run(spark, options(prompts(), tmp.resolve("o3"),
                ValueDtype.FLOAT32, "error", -1, -1, 50_000, 0, List.of("blocks.7.hook_resid_pre")))).getMessage().contains("blocks 0..4"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CollectJob.run(spark, options(prompts(), tmp.resolve("o4"),
                ValueDtype.FLOAT32, "error", -1, -1, 50_000, 0, List.of("blocks.1.attn.hook_pattern")))).getMessage().contains("forward"));
        CollectOptions noModel = new CollectOptions(prompts().toString(), "auto", tmp.resolve("nope").toString(), HOOKS,
                tmp.resolve("o5").toString(), ValueDtype.FLOAT32, 3, 0, 0, 0, 2, 50_000, "error", "cpu", "snappy", -1, -1);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CollectJob.run(spark, noModel)).getMessage().contains("does not exist"));
        assertTrue(!Files.exists(tmp.resolve("o2")) && !Files.exists(tmp.resolve("o3")), "refused runs write nothing");
    }

    @Test
    void packingFillsWindowsAndParquetInputWorks(@TempDir Path tmp) throws IOException {
        io.loupe.TestData.shared();   // skips without ../shared, before the session is touched
        Path parquetIn = tmp.resolve("prompts.parquet");
        spark.read().json(prompts().toString()).select("id", "text").write().parquet(parquetIn.toString());
        CollectJob.Summary s = CollectJob.run(spark, options(parquetIn, tmp.resolve("packed"), ValueDtype.FLOAT32, "error", -1, -1, 50_000,
                8, HOOKS.subList(0, 1)));
        assertEquals(89, s.tokens(), "packing drops no token");
        List<Row> rows = spark.read().parquet(tmp.resolve("packed").toString()).collectAsList();
        assertEquals(89, rows.size());
        Map<String, Integer> lengths = new HashMap<>();
        rows.forEach(r -> lengths.merge(r.getAs("example_id"), 1, Integer::sum));
        assertTrue(lengths.values().stream().allMatch(n -> n <= 8));
        assertTrue(lengths.values().stream().filter(n -> n < 8).count() <= 2, "only each partition's last window may be short");
        assertTrue(lengths.keySet().stream().allMatch(id -> id.matches("p\\d@\\d+")), lengths.keySet().toString());
    }

    /** Every row as a sortable string, so two datasets compare regardless of file layout. */
    private static List<String> canonical(Path out) {
        List<String> rows = new ArrayList<>();
        for (Row r : spark.read().parquet(out.toString()).collectAsList()) {
            rows.add(r.getAs("hook") + "|" + r.getAs("example_id") + "|" + r.getAs("position") + "|" + r.getAs("token_id") + "|"
                    + java.util.HexFormat.of().formatHex((byte[]) r.getAs("values")) + "|" + r.getAs("next_token_logprob") + "|"
                    + r.getAs("entropy"));
        }
        rows.sort(null);
        return rows;
    }

    private static float[] floats(SafetensorsFile f, String name) {
        try {
            FloatBuffer fb = f.bytes(name).asFloatBuffer();
            float[] a = new float[fb.remaining()];
            fb.get(a);
            return a;
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
