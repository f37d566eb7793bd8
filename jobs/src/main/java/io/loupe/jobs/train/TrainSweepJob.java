package io.loupe.jobs.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.loupe.collect.Example;
import io.loupe.jobs.ExecutorModels;
import io.loupe.jobs.JobFiles;
import io.loupe.jobs.RowsReader;
import io.loupe.model.LanguageModel;
import io.loupe.model.ModelCheckpoint;
import io.loupe.model.ModelConfig;
import io.loupe.optim.TrainingState;
import io.loupe.tokenize.PromptTokenizer;
import io.loupe.train.CorpusRow;
import io.loupe.train.LmTrainer;
import io.loupe.train.StepLog;
import io.loupe.train.TrainData;
import io.loupe.train.TrainSequence;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.deploy.SparkHadoopUtil;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

/**
 * A sweep of language-model runs as Spark tasks, one model per task (one GPU each where Spark assigns them). The
 * corpus is read and tokenised on the executors, packed on the driver and broadcast, so every run sees the same
 * sequences. Each task trains from its {@link ModelSource}, writes every checkpoint as a Hugging Face directory at
 * {@code OUT/<run>/step<N>} (published whole), and keeps its training state under {@code OUT/<run>/_resume}: a
 * retried or re-run task continues from it and ends with the weights an uninterrupted run would have.
 */
public final class TrainSweepJob {
    private static final Logger LOG = LoggerFactory.getLogger(TrainSweepJob.class);

    /**
     * @param device          device for tasks Spark gave no GPU: cpu, gpu, gpu:N or auto
     * @param logEvery        a progress line every this many steps (and the last)
     * @param failOnceAtStep  fault injection for tests: each task's first attempt dies after saving this step's state (-1: never)
     */
    public record Settings(String device, int logEvery, int failOnceAtStep) implements java.io.Serializable {
    }

    private TrainSweepJob() {
    }

    /**
     * Reads the corpus (JSONL or Parquet rows: {@code text}, {@code token_ids}, or {@code question} + {@code answer}),
     * tokenises it on the executors with the source's tokenizer, and builds the training data: documents packed into
     * {@code contextSize} windows, QA rows whole, a held-out share split off.
     */
    public static TrainData corpus(SparkSession spark, String path, String format, ModelSource src, ModelConfig cfg, int contextSize,
                                   double heldOutFraction, long splitSeed) {
        Dataset<Row> rows = RowsReader.read(spark, path, format);
        if (rows.isEmpty()) {
            throw new IllegalArgumentException(path + ": the corpus has no rows");
        }
        String tokenizer = src.tokenizerUri();
        spark.sparkContext().setJobDescription("loupe train: tokenising " + path);
        List<CorpusRow.Encoded> encoded = rows.select("id", "text", "token_ids", "question", "answer").javaRDD().mapPartitions(it -> {
            PromptTokenizer tok = tokenizer == null ? null : ExecutorModels.tokenizer(tokenizer, cfg);
            List<CorpusRow.Encoded> out = new ArrayList<>();
            while (it.hasNext()) {
                Row r = it.next();
                long[] ids = r.isNullAt(2) ? null : r.<Long>getList(2).stream().mapToLong(Long::longValue).toArray();
                out.add(new CorpusRow(r.getString(0), r.getString(1), ids, r.getString(3), r.getString(4)).encode(tok, cfg));
            }
            return out.iterator();
        }).collect();
        List<Example> docs = new ArrayList<>();
        List<TrainSequence> qa = new ArrayList<>();
        for (CorpusRow.Encoded e : encoded) {
            if (e.document() != null) {
                docs.add(e.document());
            } else {
                qa.add(e.qa());
            }
        }
        return TrainData.build(docs, qa, contextSize, heldOutFraction, splitSeed);
    }

    /** Trains every run as a Spark task; returns each run's result as JSON, in the order given. */
    public static List<JsonObject> run(SparkSession spark, ModelSource src, List<TrainRun> runs, TrainData data, Settings s, String out)
            throws IOException {
        Configuration hconf = spark.sparkContext().hadoopConfiguration();
        String qualifiedOut = JobFiles.qualify(out, hconf);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<TrainData> shared = jsc.broadcast(data);
        spark.sparkContext().setJobDescription("loupe train: " + runs.size() + " run(s)");
        List<String> json = jsc.parallelize(runs, runs.size()).map(r -> trainOne(r, src, shared.value(), s, qualifiedOut)).collect();
        List<JsonObject> results = new ArrayList<>();
        for (String j : json) {
            results.add(JsonParser.parseString(j).getAsJsonObject());
        }
        return results;
    }

    private static String trainOne(TrainRun run, ModelSource src, TrainData data, Settings s, String out) throws IOException {
        Configuration conf = SparkHadoopUtil.get().newConfiguration(SparkEnv.get().conf());
        Path runDir = new Path(out, run.name());
        java.nio.file.Path local = Files.createTempDirectory("loupe-train-");
        JsonObject sourceConfig = src.configJson(conf);
        long baseTokens = sourceConfig.has("tokens_seen") ? sourceConfig.get("tokens_seen").getAsLong() : 0;
        java.nio.file.Path tokenizerDir = src.tokenizerDir(conf);
        List<String> checkpoints = new ArrayList<>();
        LmTrainer.Result result;
        try (LanguageModel model = src.build(conf, run.config().seed(), run.hiddenAct(), ExecutorModels.taskDevice(s.device()))) {
            LmTrainer.Resume resume = resume(conf, new Path(runDir, "_resume"), local.resolve("_resume"), run.name(), s.failOnceAtStep());
            int steps = run.config().steps();
            result = LmTrainer.train(model, data, run.config(), new LmTrainer.Listener() {
                private long started = System.nanoTime(), tokensAtStart = -1;

                @Override
                public void onStep(StepLog l) {
                    if (tokensAtStart < 0) {
                        tokensAtStart = l.tokens() - (l.step() == 1 ? l.tokens() : 0);
                        started = System.nanoTime();
                    }
                    if (l.step() % s.logEvery() == 0 || l.step() == steps) {
                        double rate = (l.tokens() - tokensAtStart) / ((System.nanoTime() - started) / 1e9);
                        LOG.info(String.format("%s: step %d/%d  tokens %d  loss %.4f%s  lr %.2e  |g| %.3f  %.0f tokens/s", run.name(), l.step(), steps,
                                l.tokens(), l.trainLoss(), Double.isNaN(l.heldOutLoss()) ? "" : String.format("  held-out %.4f", l.heldOutLoss()),
                                l.lr(), l.gradNorm(), rate));
                    }
                }

                @Override
                public void onCheckpoint(int step, long tokensSeen) throws IOException {
                    java.nio.file.Path dir = local.resolve("step" + step);
                    ModelCheckpoint.write(model, sourceConfig, tokenizerDir, baseTokens + tokensSeen, dir);
                    Path dst = new Path(runDir, "step" + step);
                    JobFiles.publishDir(conf, dir, dst);
                    deleteRecursively(dir);
                    checkpoints.add(dst.toString());
                    LOG.info(run.name() + ": checkpoint after step " + step + " (" + tokensSeen + " tokens) at " + dst);
                }
            }, resume);
        }
        runDir.getFileSystem(conf).delete(new Path(runDir, "_resume"), true);   // the run is complete
        deleteRecursively(local);
        JsonObject o = new JsonObject();
        o.addProperty("run", run.name());
        o.addProperty("hidden_act", run.hiddenAct() == null ? null : run.hiddenAct().hfName());
        o.addProperty("lr", run.config().lr());
        o.addProperty("seed", run.config().seed());
        o.addProperty("activation_l1", run.l1Spec());
        o.addProperty("steps", run.config().steps());
        o.addProperty("tokens_seen", baseTokens + result.tokensSeen());
        o.addProperty("seconds", result.seconds());
        o.addProperty("tokens_per_second", result.tokensPerSecond());
        o.addProperty("resumed_from_step", result.firstStep());
        o.addProperty("config", run.config().toString());
        JsonArray ck = new JsonArray();
        for (String c : listCheckpoints(conf, runDir)) {
            ck.add(c);
        }
        o.add("checkpoints", ck);
        o.add("log", JsonParser.parseString(StepLog.toJson(result.log())));
        return new GsonBuilder().serializeSpecialFloatingPointValues().create().toJson(o);
    }

    /** Every published step directory of a run (a resumed task did not write the earlier ones itself), by step. */
    private static List<String> listCheckpoints(Configuration conf, Path runDir) throws IOException {
        FileSystem fs = runDir.getFileSystem(conf);
        List<String> out = new ArrayList<>();
        for (var st : fs.listStatus(runDir)) {
            String n = st.getPath().getName();
            if (st.isDirectory() && n.matches("step\\d+")) {
                out.add(st.getPath().toString());
            }
        }
        out.sort(java.util.Comparator.comparingInt(p -> Integer.parseInt(p.substring(p.lastIndexOf("step") + 4))));
        return out;
    }

    /**
     * Fetches a saved training state from durable storage if there is one, and copies each new one there; the fault
     * injection kills the task's first attempt right after a copy, as a lost executor would.
     */
    private static LmTrainer.Resume resume(Configuration conf, Path remote, java.nio.file.Path local, String name, int failAt) throws IOException {
        Files.createDirectories(local);
        FileSystem fs = remote.getFileSystem(conf);
        Path state = new Path(remote, TrainingState.FILE);
        if (fs.exists(state)) {
            fs.copyToLocalFile(false, state, new Path(local.resolve(TrainingState.FILE).toUri()), true);
            LOG.info(name + ": found a saved training state; resuming from it");
        }
        int attempt = TaskContext.get() == null ? 0 : TaskContext.get().attemptNumber();
        return new LmTrainer.Resume(local, step -> {
            try {
                fs.copyFromLocalFile(false, true, new Path(local.resolve(TrainingState.FILE).toUri()), state);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            if (step == failAt && attempt == 0) {
                throw new IllegalStateException("fault injection: run " + name + " killed after step " + step);
            }
        });
    }

    static void deleteRecursively(java.nio.file.Path p) throws IOException {
        if (Files.exists(p)) {
            try (var walk = Files.walk(p)) {
                for (java.nio.file.Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(f);
                }
            }
        }
    }

    static Gson gson() {
        return new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create();
    }
}
