package io.loupe.jobs.collect;

import com.google.gson.JsonObject;
import io.loupe.collect.ActivationCollector;
import io.loupe.hooks.HookPoint;
import io.loupe.jobs.ModelFiles;
import io.loupe.model.ModelConfig;
import io.loupe.model.ModelLoader;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.MetadataBuilder;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.hash;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;

/**
 * {@code loupe collect}: prompts to a Parquet activation dataset partitioned by hook.
 * Everything is checked before work starts (model, hooks, output, input); the input is then written in
 * chunks, each one Spark job whose output commits whole through Spark's commit protocol, so a failed
 * task's retry or a rerun never duplicates rows, and {@code --mode resume} adds only the missing examples.
 */
public final class CollectJob {
    /** What a run did; task seconds are Spark's run time of the collect tasks, the Parquet writer's flush included. */
    public record Summary(long examples, long tokens, long rows, long bytes, long values, Map<String, Long> skipped, long resumedExamples,
                          int chunks, double seconds, double forwardSeconds, double encodeSeconds, double taskSeconds) {
        public double bytesPerValue() {
            return values == 0 ? 0 : (double) bytes / values;
        }
    }

    private static final String SUCCESS = "_SUCCESS";
    /** Hadoop's switch for the committer's _SUCCESS marker; a write option reaches the job's Hadoop configuration. */
    private static final String MARK_SUCCESS = "mapreduce.fileoutputcommitter.marksuccessfuljobs";

    private CollectJob() {
    }

    /**
     * The activation rows of prompts held in a DataFrame, computed but not written: the rows {@link #run} writes, through the
     * same {@link CollectPartition}, for the DataFrame API ({@code io.loupe.api.ActivationCollector}). {@code prompts} has
     * {@code id} and {@code text} and/or {@code token_ids} ({@code array<long>}; it wins where both are set). The options'
     * input, output, mode and chunking are not used. Values are stored-format bytes, as in the written dataset.
     */
    public static Dataset<Row> activations(SparkSession spark, Dataset<Row> prompts, CollectOptions options) throws IOException {
        Configuration hconf = spark.sparkContext().hadoopConfiguration();
        CollectOptions o = options.qualified(hconf);
        ModelConfig cfg = ModelLoader.inspect(ModelFiles.local(o.model(), hconf));
        List<HookPoint> hooks = o.hookPoints();
        ActivationCollector.validateHooks(cfg, hooks);
        List<String> columns = java.util.Arrays.asList(prompts.columns());
        if (!columns.contains("id") || !(columns.contains("text") || columns.contains("token_ids"))) {
            throw new IllegalArgumentException("prompts need an id column and text or token_ids; columns: " + columns);
        }
        Dataset<Row> normalised = prompts.select(col("id").cast("string").as("id"),
                columns.contains("text") ? col("text").cast("string").as("text") : lit(null).cast("string").as("text"),
                columns.contains("token_ids") ? col("token_ids").cast("array<bigint>").as("token_ids") : lit(null).cast("array<bigint>").as("token_ids"));
        StructType schema = CollectSchema.schema(o.topK() > 0, valuesMetadata(o, widths(cfg, hooks)));
        int partitions = o.partitions() > 0 ? o.partitions() : spark.sparkContext().defaultParallelism();
        var sc = spark.sparkContext();   // unnamed accumulators: a collect run's progress listener matches its stages by name
        CollectPartition.Counters counters = new CollectPartition.Counters(sc.longAccumulator(), sc.longAccumulator(), sc.longAccumulator(),
                sc.longAccumulator(), sc.longAccumulator());
        return collectRows(normalised, partitions, o, counters, schema);
    }

    /** Each hook's row width. */
    private static Map<String, Integer> widths(ModelConfig cfg, List<HookPoint> hooks) {
        Map<String, Integer> widths = new LinkedHashMap<>();
        hooks.forEach(p -> widths.put(p.name(), ActivationCollector.width(cfg, p)));
        return widths;
    }

    /** The named accumulators a collect run's partitions report to (progress and the time split). */
    private static CollectPartition.Counters counters(org.apache.spark.SparkContext sc) {
        return new CollectPartition.Counters(sc.longAccumulator("loupe.examples"), sc.longAccumulator(CollectPartition.TOKENS_ACCUMULATOR),
                sc.longAccumulator("loupe.rows"), sc.longAccumulator("loupe.forward_nanos"), sc.longAccumulator("loupe.encode_nanos"));
    }

    /** Prompts (id, text, token_ids) to activation rows: hash-partitioned by id, sorted within partitions, run through the model. */
    private static Dataset<Row> collectRows(Dataset<Row> prompts, int partitions, CollectOptions o, CollectPartition.Counters counters,
                                            StructType schema) {
        return prompts.repartition(partitions, col("id")).sortWithinPartitions("id")
                .mapPartitions(new CollectPartition(o, counters), Encoders.row(schema));
    }

    public static Summary run(SparkSession spark, CollectOptions options) throws IOException {
        long start = System.nanoTime();
        Configuration hconf = spark.sparkContext().hadoopConfiguration();
        CollectOptions o = options.qualified(hconf);
        ModelConfig cfg = ModelLoader.inspect(ModelFiles.local(o.model(), hconf));
        List<HookPoint> hooks = o.hookPoints();
        ActivationCollector.validateHooks(cfg, hooks);

        Path out = new Path(o.out());
        FileSystem fs = out.getFileSystem(hconf);
        boolean exists = fs.exists(out) && fs.listStatus(out).length > 0;
        Manifest prior = exists ? Manifest.readIfExists(fs, out) : null;
        prepareOutput(o, fs, out, exists, prior);
        if (!o.mode().equals("resume")) {
            prior = null;   // an overwritten output starts its counts (and creation time) afresh
        }

        CollectInput.Result in = CollectInput.read(spark, o.input(), o.inputFormat());
        Dataset<Row> todo = in.valid();
        long resumed = 0;
        if (exists && o.mode().equals("resume")) {
            Dataset<Row> done = spark.read().parquet(o.out()).select("example_id").distinct();
            resumed = done.count();
            todo = todo.join(done, todo.col("id").equalTo(done.col("example_id")), "left_anti").select("id", "text", "token_ids");
        }
        todo = todo.persist(StorageLevel.MEMORY_AND_DISK());
        long n = todo.count();
        int chunks = (int) Math.max(1, (n + o.chunkSize() - 1) / o.chunkSize());
        int partitions = o.partitions() > 0 ? o.partitions() : spark.sparkContext().defaultParallelism();

        Map<String, Integer> widths = widths(cfg, hooks);
        JsonObject manifest = manifestJson(o, cfg, widths, in, prior);
        Metadata valuesMeta = valuesMetadata(o, widths);
        StructType schema = CollectSchema.schema(o.topK() > 0, valuesMeta);
        var sc = spark.sparkContext();
        CollectPartition.Counters counters = counters(sc);
        CollectProgress progress = new CollectProgress(n, counters);
        sc.addSparkListener(progress);
        try {
            // Incomplete from the start: a run killed before its first commit must not leave an old "complete" behind.
            fs.mkdirs(out);
            fs.delete(new Path(out, SUCCESS), false);
            recordProgress(manifest, prior, counters, 0, chunks);
            new Manifest(manifest).write(fs, out);
            for (int c = 0; c < chunks && (o.stopAfterChunks() < 0 || c < o.stopAfterChunks()); c++) {
                Dataset<Row> chunk = chunks == 1 ? todo : todo.filter(pmod(hash(col("id")), lit(chunks)).equalTo(c));
                sc.setJobDescription("loupe collect: chunk " + (c + 1) + "/" + chunks);
                collectRows(chunk, partitions, o, counters, schema)
                        .withColumn("values", col("values").as("values", valuesMeta))   // the encoder drops field metadata
                        .write().mode(SaveMode.Append).partitionBy("hook")
                        .option("compression", o.parquetCodec())
                        .option("parquet.enable.dictionary#values", "false")   // float bytes never repeat; a dictionary only costs
                        .option(MARK_SUCCESS, "false")   // _SUCCESS comes once, after the last chunk
                        .parquet(o.out());
                recordProgress(manifest, prior, counters, c + 1, chunks);
                new Manifest(manifest).write(fs, out);
            }
            if (manifest.get(Manifest.COMPLETE).getAsBoolean()) {
                fs.create(new Path(out, SUCCESS), true).close();
                io.loupe.jobs.RunReport.write(fs.getConf(), o.out(), "collect");
            }
        } finally {
            sc.removeSparkListener(progress);
            todo.unpersist();
        }
        long bytes = dataBytes(fs, out);
        // Every hook stores one row per committed token, so the values on disk follow from the token count.
        long values = new Manifest(manifest).count("tokens") * widths.values().stream().mapToLong(Integer::longValue).sum();
        return new Summary(counters.examples().value(), counters.tokens().value(), counters.rows().value(), bytes, values, in.skipped(),
                resumed, chunks, (System.nanoTime() - start) / 1e9, counters.forwardNanos().value() / 1e9,
                counters.encodeNanos().value() / 1e9, progress.collectTaskSeconds());
    }

    /** The manifest's progress after {@code committed} of {@code chunks} chunks: counts so far, and complete only after the last. */
    private static void recordProgress(JsonObject manifest, Manifest prior, CollectPartition.Counters counters, int committed, int chunks) {
        JsonObject counts = new JsonObject();
        counts.addProperty("examples", (prior != null ? prior.count("examples") : 0) + counters.examples().value());
        counts.addProperty("tokens", (prior != null ? prior.count("tokens") : 0) + counters.tokens().value());
        counts.addProperty("rows", (prior != null ? prior.count("rows") : 0) + counters.rows().value());
        manifest.add("counts", counts);
        manifest.addProperty("chunks_committed_this_run", committed);
        manifest.addProperty("chunks_this_run", chunks);
        manifest.addProperty(Manifest.COMPLETE, committed == chunks);
        manifest.addProperty("updated_at", Instant.now().toString());
    }

    private static void prepareOutput(CollectOptions o, FileSystem fs, Path out, boolean exists, Manifest prior) throws IOException {
        if (!exists) {
            if (o.mode().equals("resume")) {
                throw new IllegalArgumentException(out + ": nothing to resume (no output there yet); drop --mode resume");
            }
            return;
        }
        switch (o.mode()) {
            case "error" -> throw new IllegalArgumentException(out + " already exists: use --mode overwrite to replace it or --mode resume"
                    + " to add the examples it lacks");
            case "overwrite" -> fs.delete(out, true);
            case "resume" -> {
                if (o.packing()) {
                    throw new IllegalArgumentException("--mode resume needs stable example ids, which packed windows (--context-size) do not"
                            + " have across inputs; use --mode overwrite");
                }
                if (prior == null) {
                    throw new IllegalArgumentException(out + " has no " + Manifest.NAME + ": not a Loupe collect output, refusing to add to it");
                }
                JsonObject want = Manifest.toJson(o.contentSettings());
                if (!prior.settings().equals(want)) {
                    throw new IllegalArgumentException(out + " was made with other settings; resume needs the same.\n  there: "
                            + prior.settings() + "\n  now:   " + want);
                }
                // A driver that died mid-job leaves uncommitted task output here; it must not be committed by the next job.
                fs.delete(new Path(out, "_temporary"), true);
            }
            default -> throw new IllegalStateException(o.mode());
        }
    }

    private static Metadata valuesMetadata(CollectOptions o, Map<String, Integer> widths) {
        return new MetadataBuilder()
                .putString("loupe.dtype", o.dtype().label())
                .putString("loupe.encoding", "little-endian " + o.dtype().label() + " x width")
                .putString("loupe.widths", Manifest.toJson(widths).toString())
                .putString("loupe.model", o.model())
                .putString("loupe.settings", Manifest.toJson(o.contentSettings()).toString())
                .build();
    }

    private static JsonObject manifestJson(CollectOptions o, ModelConfig cfg, Map<String, Integer> widths, CollectInput.Result in,
                                           Manifest prior) {
        JsonObject m = new JsonObject();
        m.addProperty("format", "loupe-activations");
        m.addProperty("format_version", 1);
        m.addProperty("created_at", prior != null && prior.json().has("created_at") ? prior.json().get("created_at").getAsString()
                : Instant.now().toString());
        m.addProperty("model", o.model());
        m.add("model_config", Manifest.toJson(cfg));
        JsonObject h = new JsonObject();
        widths.forEach((name, w) -> {
            JsonObject e = new JsonObject();
            e.addProperty("layer", HookPoint.parse(name).layer());
            e.addProperty("width", w);
            h.add(name, e);
        });
        m.add("hooks", h);
        m.addProperty("dtype", o.dtype().label());
        m.addProperty("values_encoding", "binary: width little-endian " + o.dtype().label() + " values per row");
        m.addProperty("partitioned_by", "hook");
        m.add("settings", Manifest.toJson(o.contentSettings()));
        m.add("run", Manifest.toJson(o));
        m.add("skipped_inputs", Manifest.toJson(in.skipped()));
        m.addProperty("valid_inputs", in.validCount());
        return m;
    }

    private static long dataBytes(FileSystem fs, Path root) throws IOException {
        long total = 0;
        for (FileStatus s : fs.listStatus(root)) {
            if (s.isDirectory()) {
                total += dataBytes(fs, s.getPath());
            } else if (s.getPath().getName().endsWith(".parquet")) {
                total += s.getLen();
            }
        }
        return total;
    }
}
