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
import io.loupe.train.NextTokenObjective;
import io.loupe.train.Objective;
import io.loupe.unlearn.UnlearningObjective;
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
 * A sweep of training runs as Spark tasks, one model per task (one GPU each where Spark assigns them): language
 * modelling ({@code train}, {@code unlearn prepare}) or an unlearning method ({@code unlearn}). Corpora are read and
 * tokenised on the executors, assembled on the driver and broadcast, so every run sees the same sequences. Each task
 * trains from its {@link ModelSource}, writes its checkpoints as Hugging Face directories ({@code OUT/<run>/step<N>},
 * or the final model as {@code OUT/<run>}), each published whole, and keeps its training state under
 * {@code OUT/_state/<run>}: a retried or re-run task continues from it and ends with the weights an uninterrupted run
 * would have.
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

    /** A corpus tokenised: documents (text or token ids) and question/answer sequences. */
    public record Encoded(List<Example> documents, List<TrainSequence> qa) implements java.io.Serializable {
        /** Every row as one sequence of its own (no packing), as unlearning reads its splits. */
        public TrainData unpacked() {
            return TrainData.trainOnly(TrainData.unpacked(documents, qa));
        }

        /** The ids of every row. */
        public java.util.Set<String> ids() {
            java.util.Set<String> out = new java.util.HashSet<>();
            documents.forEach(d -> out.add(d.id()));
            qa.forEach(q -> out.add(q.id()));
            return out;
        }

        public Encoded plus(Encoded o) {
            List<Example> d = new ArrayList<>(documents);
            d.addAll(o.documents);
            List<TrainSequence> q = new ArrayList<>(qa);
            q.addAll(o.qa);
            return new Encoded(d, q);
        }
    }

    /**
     * Reads a corpus (JSONL or Parquet rows: {@code text}, {@code prompt} + {@code gt}, {@code token_ids}, or
     * {@code question} + {@code answer}) and tokenises it on the executors with the source's tokenizer.
     */
    public static Encoded encode(SparkSession spark, String path, String format, ModelSource src, ModelConfig cfg) {
        Dataset<Row> rows = RowsReader.read(spark, path, format);
        if (rows.isEmpty()) {
            throw new IllegalArgumentException(path + ": the corpus has no rows");
        }
        String tokenizer = src.tokenizerUri();
        spark.sparkContext().setJobDescription("loupe: tokenising " + path);
        List<CorpusRow.Encoded> encoded = rows.select("id", "text", "token_ids", "question", "answer", "prompt", "gt").javaRDD().mapPartitions(it -> {
            PromptTokenizer tok = tokenizer == null ? null : ExecutorModels.tokenizer(tokenizer, cfg);
            List<CorpusRow.Encoded> out = new ArrayList<>();
            while (it.hasNext()) {
                Row r = it.next();
                long[] ids = r.isNullAt(2) ? null : r.<Long>getList(2).stream().mapToLong(Long::longValue).toArray();
                String text = !r.isNullAt(1) ? r.getString(1) : !r.isNullAt(5) && !r.isNullAt(6) ? r.getString(5) + " " + r.getString(6) : null;
                out.add(new CorpusRow(r.getString(0), text, ids, r.getString(3), r.getString(4)).encode(tok, cfg));
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
        return new Encoded(docs, qa);
    }

    /** Trains every run as a Spark task; returns each run's result as JSON, in the order given. */
    public static List<JsonObject> run(SparkSession spark, ModelSource src, List<TrainRun> runs, java.util.Map<String, TrainData> data, Settings s,
                                       String out) throws IOException {
        Configuration hconf = spark.sparkContext().hadoopConfiguration();
        String qualifiedOut = JobFiles.qualify(out, hconf);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<java.util.Map<String, TrainData>> shared = jsc.broadcast(new java.util.HashMap<>(data));
        spark.sparkContext().setJobDescription("loupe train: " + runs.size() + " run(s)");
        List<String> json = jsc.parallelize(runs, runs.size()).map(r -> trainOne(r, src, shared.value(), s, qualifiedOut)).collect();
        List<JsonObject> results = new ArrayList<>();
        for (String j : json) {
            results.add(JsonParser.parseString(j).getAsJsonObject());
        }
        Path states = new Path(qualifiedOut, STATES);
        FileSystem fs = states.getFileSystem(hconf);
        if (fs.exists(states) && fs.listStatus(states).length == 0) {
            fs.delete(states, true);
        }
        return results;
    }

    /** Training states of unfinished runs live under {@code OUT/_state/<run>}. */
    static final String STATES = "_state";

    private static String trainOne(TrainRun run, ModelSource src, java.util.Map<String, TrainData> data, Settings s, String out) throws IOException {
        Configuration conf = SparkHadoopUtil.get().newConfiguration(SparkEnv.get().conf());
        Path runDir = new Path(out, run.name()), stateDir = new Path(new Path(out, STATES), run.name());
        java.nio.file.Path local = Files.createTempDirectory("loupe-train-");
        JsonObject sourceConfig = src.configJson(conf);
        long baseTokens = sourceConfig.has("tokens_seen") ? sourceConfig.get("tokens_seen").getAsLong() : 0;
        java.nio.file.Path tokenizerDir = src.tokenizerDir(conf);
        LmTrainer.Result result;
        ai.djl.Device device = ExecutorModels.taskDevice(s.device());
        try (LanguageModel model = src.build(conf, run.config().seed(), run.hiddenAct(), device);
             LanguageModel reference = run.unlearn() != null && run.unlearn().method().usesReference() ? src.build(conf, 0, run.hiddenAct(), device) : null) {
            Objective objective;
            java.util.function.Predicate<String> trainable = name -> true;
            if (run.unlearn() == null) {
                objective = new NextTokenObjective(data.get(run.data()), run.config());
            } else {
                UnlearningObjective u = new UnlearningObjective(run.unlearn(), data.get("forget"), data.get("retain"), reference);
                objective = u;
                trainable = u.trainable();
            }
            LmTrainer.Resume resume = resume(conf, stateDir, local.resolve("_resume"), run.name(), s.failOnceAtStep());
            int steps = run.config().steps();
            result = LmTrainer.train(model, objective, run.config(), trainable, new LmTrainer.Listener() {
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
                                l.tokens(), l.trainLoss(), Double.isNaN(l.heldOutLoss()) ? "" : String.format("  %s %.4f",
                                        run.unlearn() == null ? "held-out" : "forget NLL", l.heldOutLoss()), l.lr(), l.gradNorm(), rate));
                    }
                }

                @Override
                public void onCheckpoint(int step, long tokensSeen) throws IOException {
                    if (run.finalOnly() && step < steps) {
                        return;
                    }
                    java.nio.file.Path dir = local.resolve("step" + step);
                    ModelCheckpoint.write(model, sourceConfig, tokenizerDir, baseTokens + tokensSeen, dir);
                    Path dst = run.finalOnly() ? runDir : new Path(runDir, "step" + step);
                    JobFiles.publishDir(conf, dir, dst);
                    io.loupe.io.LocalDirs.deleteRecursively(dir);
                    LOG.info(run.name() + ": checkpoint after step " + step + " (" + tokensSeen + " tokens) at " + dst);
                }
            }, resume);
        }
        stateDir.getFileSystem(conf).delete(stateDir, true);   // the run is complete
        io.loupe.io.LocalDirs.deleteRecursively(local);
        JsonObject o = new JsonObject();
        o.addProperty("run", run.name());
        o.addProperty("hidden_act", run.hiddenAct() == null ? null : run.hiddenAct().hfName());
        o.addProperty("lr", run.config().lr());
        o.addProperty("seed", run.config().seed());
        o.addProperty("activation_l1", run.l1Spec());
        if (run.unlearn() != null) {
            o.addProperty("method", run.unlearn().method().cliName());
            o.addProperty("alpha", run.unlearn().alpha());
            o.addProperty("beta", run.unlearn().beta());
        }
        o.addProperty("steps", run.config().steps());
        o.addProperty("tokens_seen", baseTokens + result.tokensSeen());
        o.addProperty("seconds", result.seconds());
        o.addProperty("tokens_per_second", result.tokensPerSecond());
        o.addProperty("resumed_from_step", result.firstStep());
        o.addProperty("config", run.config().toString());
        JsonArray ck = new JsonArray();
        for (String c : run.finalOnly() ? List.of(runDir.toString()) : listCheckpoints(conf, runDir)) {
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
        if (io.loupe.jobs.DurableState.fetch(conf, remote, local)) {
            LOG.info(name + ": found a saved training state; resuming from it");
        }
        int attempt = TaskContext.get() == null ? 0 : TaskContext.get().attemptNumber();
        return new LmTrainer.Resume(local, step -> {
            try {
                io.loupe.jobs.DurableState.publish(conf, local, remote);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            if (step == failAt && attempt == 0) {
                throw new IllegalStateException("fault injection: run " + name + " killed after step " + step);
            }
        });
    }


    static Gson gson() {
        return new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create();
    }
}
