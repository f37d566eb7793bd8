package io.loupe.jobs.unlearn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.loupe.dict.SaeConfig;
import io.loupe.dict.SparseAutoencoder;
import io.loupe.hooks.HookPoint;
import io.loupe.hooks.Hooks;
import io.loupe.jobs.ExecutorModels;
import io.loupe.jobs.ModelFiles;
import io.loupe.model.LanguageModel;
import io.loupe.model.ModelLoader;
import io.loupe.model.TokenBatch;
import io.loupe.tokenize.PromptTokenizer;
import io.loupe.train.NextTokenObjective;
import io.loupe.train.TrainSequence;
import io.loupe.unlearn.Relearning;
import io.loupe.unlearn.metrics.ConceptVectors;
import io.loupe.unlearn.metrics.ExampleScorer;
import io.loupe.unlearn.metrics.ExampleScores;
import io.loupe.unlearn.metrics.RepresentationPass;
import io.loupe.unlearn.metrics.ScoreExample;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.deploy.SparkHadoopUtil;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The unlearning score as two Spark jobs. First, one task per (model, split, example shard): per-example behaviour
 * ({@link ExampleScorer}: membership scores, TOFU and MUSE figures) and, on forget and retain, the representation
 * pass (CKA sums against the target and the retrain model, probe features). Shard i holds examples i, i + shards, …,
 * so a retried task recomputes the same rows; every sum merges exactly. Second, one task per model: parameter traces
 * against the target, relearning on a forget slice, and dictionary latents' firing (with {@code --sae}). Models are
 * loaded once per executor JVM; relearning trains a private copy.
 */
public final class UnlearningScoreJob {
    private static final Logger LOG = LoggerFactory.getLogger(UnlearningScoreJob.class);
    public static final List<String> SPLITS = List.of("forget", "retain", "holdout");

    /**
     * @param minK          Min-K% ratios
     * @param fewShot       retain QA rows used as KnowMem's in-context examples
     * @param shards        example shards per (model, split)
     * @param relearnSteps  relearning steps K (0: skip)
     * @param conceptTop    top-K tokens of a value vector's vocabulary projection
     * @param sae           a {@code loupe fit} dictionary checkpoint for feature persistence, or null
     */
    public record Settings(double[] minK, int fewShot, int batchSize, int maxNewTokens, int shards, int relearnSteps, double relearnLr, int conceptTop,
                           String sae, int probeFolds, double probeRidge, String device) implements java.io.Serializable {
    }

    /** The models: {@code names[i]} at {@code uris[i]}; the target, retrain and (optional) reference are among or beside them. */
    public record Models(List<String> names, List<String> uris, String target, String retrain, String reference) implements java.io.Serializable {
    }

    /** One (model, split, shard) task's output. */
    public record Shard(int model, String split, List<ExampleScores> scores, RepresentationPass.Result representations) implements java.io.Serializable {
    }

    private UnlearningScoreJob() {
    }

    /** KnowMem's in-context prefix: the first {@code n} retain QA rows by id, as {@code Question: …\nAnswer: …\n\n} blocks. */
    public static String fewShot(List<ScoreExample> retain, int n) {
        StringBuilder sb = new StringBuilder();
        retain.stream().filter(ScoreExample::isQa).limit(n).forEach(e -> sb.append(io.loupe.train.QaFormat.prompt(e.question())).append(' ')
                .append(e.answer()).append("\n\n"));
        return sb.toString();
    }

    public static List<Shard> examples(SparkSession spark, Models m, Map<String, List<ScoreExample>> splits, Settings s) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<Map<String, List<ScoreExample>>> shared = jsc.broadcast(new java.util.HashMap<>(splits));
        String prefix = fewShot(splits.get("retain"), s.fewShot());
        List<int[]> tasks = new ArrayList<>();   // {model, split, shard}
        for (int i = 0; i < m.uris().size(); i++) {
            for (int sp = 0; sp < SPLITS.size(); sp++) {
                for (int k = 0; k < Math.min(s.shards(), splits.get(SPLITS.get(sp)).size()); k++) {
                    tasks.add(new int[]{i, sp, k});
                }
            }
        }
        spark.sparkContext().setJobDescription("loupe unlearning score: " + m.uris().size() + " models x 3 splits, " + tasks.size() + " tasks");
        return jsc.parallelize(tasks, tasks.size()).map(t -> {
            String split = SPLITS.get(t[1]);
            List<ScoreExample> all = shared.value().get(split), mine = new ArrayList<>();
            int shards = Math.min(s.shards(), all.size());
            for (int i = t[2]; i < all.size(); i += shards) {
                mine.add(all.get(i));
            }
            ai.djl.Device dev = ExecutorModels.taskDevice(s.device());
            ExecutorModels.Loaded lm = ExecutorModels.get(m.uris().get(t[0]), dev);
            double[] ref = m.reference() == null ? null : ExampleScorer.loss(ExecutorModels.get(m.reference(), dev).model(), lm.tokenizer(), mine, s.batchSize());
            long start = System.nanoTime();
            List<ExampleScores> scores = ExampleScorer.score(lm.model(), lm.tokenizer(), mine, ref,
                    new ExampleScorer.Options(s.minK(), prefix, s.batchSize(), s.maxNewTokens()));
            RepresentationPass.Result reps = split.equals("holdout") ? null
                    : RepresentationPass.run(lm.model(), ExecutorModels.get(m.target(), dev).model(), ExecutorModels.get(m.retrain(), dev).model(),
                    lm.tokenizer(), mine, s.batchSize());
            LOG.info(String.format("unlearning score: %s / %s shard %d: %d examples in %.1f s", m.names().get(t[0]), split, t[2], mine.size(),
                    (System.nanoTime() - start) / 1e9));
            return new Shard(t[0], split, scores, reps);
        }).collect();
    }

    public static List<ModelExtras> extras(SparkSession spark, Models m, Map<String, List<ScoreExample>> splits, Settings s) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<Map<String, List<ScoreExample>>> shared = jsc.broadcast(new java.util.HashMap<>(splits));
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < m.uris().size(); i++) {
            idx.add(i);
        }
        spark.sparkContext().setJobDescription("loupe unlearning score: parameters, relearning" + (s.sae() == null ? "" : ", features"));
        return jsc.parallelize(idx, idx.size()).map(i -> {
            Configuration conf = SparkHadoopUtil.get().newConfiguration(SparkEnv.get().conf());
            ai.djl.Device dev = ExecutorModels.taskDevice(s.device());
            ExecutorModels.Loaded lm = ExecutorModels.get(m.uris().get(i), dev), target = ExecutorModels.get(m.target(), dev);
            List<ScoreExample> forget = shared.value().get("forget"), retain = shared.value().get("retain");
            ConceptVectors.Summary concepts = concepts(lm, target, forget, s.conceptTop());
            List<TrainSequence> forgetSeqs = FactCheck.sequences(forget, lm.tokenizer(), lm.model());
            double targetNll = NextTokenObjective.meanNll(target.model(), forgetSeqs, 0, s.batchSize());
            Relearning.Result relearn = null;
            if (s.relearnSteps() > 0) {
                try (LanguageModel copy = ModelLoader.load(lm.dir(), dev)) {   // relearning trains: never the shared instance
                    relearn = Relearning.run(copy, forgetSeqs, targetNll, s.relearnSteps(), s.relearnLr(), s.batchSize());
                }
            }
            double[][] firing = s.sae() == null ? null : firing(lm, conf, s.sae(), forget, retain, s.batchSize());
            LOG.info("unlearning score: " + m.names().get(i) + ": parameters, relearning" + (firing == null ? "" : ", features") + " done");
            return new ModelExtras(i, concepts, relearn, targetNll, firing == null ? null : firing[0], firing == null ? null : firing[1]);
        }).collect();
    }

    /** Concept vectors of the target that point at forget-answer tokens, traced in the model. */
    private static ConceptVectors.Summary concepts(ExecutorModels.Loaded model, ExecutorModels.Loaded target, List<ScoreExample> forget, int top) {
        Set<Integer> answer = new HashSet<>();
        for (ScoreExample e : forget) {
            if (e.value() != null) {
                for (long t : valueTokens(target.tokenizer(), e.value())) {
                    answer.add((int) t);
                }
            }
        }
        float[][] wuTarget = unembedding(target.model()), wuModel = unembedding(model.model());
        List<ConceptVectors.Trace> traces = new ArrayList<>();
        for (int l = 0; l < target.model().config().numLayers(); l++) {
            float[][] dt = matrix(target.model().mlpDown(l)), dm = matrix(model.model().mlpDown(l));
            traces.addAll(ConceptVectors.trace(l, dt, dm, ConceptVectors.topTokens(dt, wuTarget, top), ConceptVectors.topTokens(dm, wuModel, top), answer));
        }
        return ConceptVectors.Summary.of(traces);
    }

    /** The tokens a value adds after "Answer" (the tokenizer's own pieces for it, after a space). */
    static long[] valueTokens(PromptTokenizer tok, String value) {
        long[] a = tok.encode("Answer"), b = tok.encode("Answer " + value);
        int shared = 0;
        while (shared < Math.min(a.length, b.length) && a[shared] == b[shared]) {
            shared++;
        }
        return java.util.Arrays.copyOfRange(b, shared, b.length);
    }

    private static float[][] unembedding(LanguageModel model) {
        Map<String, NDArray> p = model.parameters();
        return matrix(p.getOrDefault("unembed.weight", p.get("embed.weight")));
    }

    private static float[][] matrix(NDArray a) {
        long rows = a.getShape().get(0), cols = a.getShape().get(1);
        float[] flat = a.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
        float[][] out = new float[(int) rows][];
        for (int r = 0; r < rows; r++) {
            out[r] = java.util.Arrays.copyOfRange(flat, (int) (r * cols), (int) ((r + 1) * cols));
        }
        return out;
    }

    /** {forget, retain} firing frequencies of every latent of the dictionary on the model's activations at its hook. */
    private static double[][] firing(ExecutorModels.Loaded lm, Configuration conf, String sae, List<ScoreExample> forget, List<ScoreExample> retain,
                                     int batchSize) throws java.io.IOException {
        java.nio.file.Path dir = ModelFiles.local(sae, conf);
        JsonObject cfgJson = io.loupe.dict.SaeLensConfig.parse(Files.readString(dir.resolve("cfg.json"), StandardCharsets.UTF_8));
        SaeConfig cfg = io.loupe.dict.SaeLensConfig.loupeConfig(cfgJson);
        HookPoint hook = HookPoint.parse(io.loupe.dict.SaeLensConfig.hookName(cfgJson));
        try (NDManager m = lm.model().manager().newSubManager(); SparseAutoencoder dict = SparseAutoencoder.load(dir, cfg, m)) {
            return new double[][]{frequencies(lm, dict, hook, forget, batchSize), frequencies(lm, dict, hook, retain, batchSize)};
        }
    }

    private static double[] frequencies(ExecutorModels.Loaded lm, SparseAutoencoder dict, HookPoint hook, List<ScoreExample> rows, int batchSize) {
        double[] fired = new double[dict.config().dSae()];
        long tokens = 0;
        for (int from = 0; from < rows.size(); from += batchSize) {
            List<long[]> ids = new ArrayList<>();
            for (ScoreExample e : rows.subList(from, Math.min(rows.size(), from + batchSize))) {
                ids.add(lm.tokenizer().encode(e.text()));
            }
            try (ai.djl.ndarray.NDScope scope = new ai.djl.ndarray.NDScope(); NDManager m = lm.model().manager().newSubManager()) {
                TokenBatch b = TokenBatch.of(m, ids, 0);
                Hooks h = Hooks.none().capture(hook);
                lm.model().forward(b, h);
                NDArray acts = h.captured(hook);
                NDArray flat = acts.reshape(-1, acts.getShape().get(2));
                NDArray real = b.mask().reshape(-1).toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
                NDArray on = dict.encode(flat).gt(0).toType(ai.djl.ndarray.types.DataType.FLOAT32, false).mul(real.expandDims(1)).sum(new int[]{0});
                float[] counts = on.toFloatArray();
                for (int i = 0; i < fired.length; i++) {
                    fired[i] += counts[i];
                }
                tokens += b.realTokens();
            }
        }
        for (int i = 0; i < fired.length; i++) {
            fired[i] /= Math.max(1, tokens);
        }
        return fired;
    }
}
