package io.loupe.jobs.sparsity;

import io.loupe.forward.Prompt;
import io.loupe.jobs.ExecutorModels;
import io.loupe.sparsity.SparsityPass;
import io.loupe.sparsity.SparsityRunner;
import io.loupe.sparsity.SparsitySearch;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Sparsity over a checkpoint series as Spark jobs: every data pass of {@link SparsitySearch} is one job
 * with one task per (checkpoint, prompt shard); each task streams its shard through its checkpoint (loaded
 * once per executor JVM) and returns {@link SparsityPass.Sums}, which are merged per checkpoint with
 * {@code reduceByKey} (sums of sums, so the result does not depend on the sharding). Prompt i belongs to
 * shard {@code i mod shards}, so a retried task recomputes the same rows.
 */
public final class SparsityJob {
    private static final Logger LOG = LoggerFactory.getLogger(SparsityJob.class);

    /**
     * @param models    checkpoint directories (qualified URIs), all of the same architecture
     * @param shards    prompt shards per checkpoint
     * @param maxSeqLen prompts are cut to their first tokens
     */
    public record Settings(List<String> models, int shards, int batchSize, int maxSeqLen, double eps, Double cett, Double pplP, double tolerance,
                           String device) implements java.io.Serializable {
        public Settings {
            if (models.isEmpty()) {
                throw new IllegalArgumentException("at least one model");
            }
            if (shards < 1 || batchSize < 1 || maxSeqLen < 1) {
                throw new IllegalArgumentException("shards, batch size and max sequence length must be >= 1");
            }
            if ((cett == null) == (pplP == null)) {
                throw new IllegalArgumentException("give exactly one of a CETT target or a PPL-p");
            }
            if (cett != null && !(cett >= 0 && cett <= 1)) {
                throw new IllegalArgumentException("the CETT target must be in [0, 1], got " + cett);
            }
            if (pplP != null && !(pplP > 0)) {
                throw new IllegalArgumentException("PPL-p must be > 0, got " + pplP);
            }
        }
    }

    private SparsityJob() {
    }

    /** One report per checkpoint, in the order given. */
    public static List<SparsityRunner.Report> run(SparkSession spark, Settings s, List<Prompt> prompts, int layers) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<List<Prompt>> shared = jsc.broadcast(prompts);
        int[] pass = {0};
        SparsitySearch.Passes passes = requests -> {
            List<Tuple2<Integer, Integer>> tasks = new ArrayList<>();
            for (int m = 0; m < requests.size(); m++) {
                for (int sh = 0; sh < Math.min(s.shards(), prompts.size()); sh++) {
                    tasks.add(new Tuple2<>(m, sh));
                }
            }
            pass[0]++;
            spark.sparkContext().setJobDescription("loupe sparsity: pass " + pass[0] + " (" + describe(requests.get(0)) + "), "
                    + s.models().size() + " checkpoint(s) x " + Math.min(s.shards(), prompts.size()) + " shards");
            long start = System.nanoTime();
            Map<Integer, SparsityPass.Sums> merged = jsc.parallelize(tasks, tasks.size())
                    .mapToPair(t -> new Tuple2<>(t._1(), shard(s, t._1(), t._2(), shared.value(), requests.get(t._1()))))
                    .reduceByKey(SparsityPass.Sums::merge)
                    .collectAsMap();
            LOG.info(String.format("sparsity: pass %d (%s) in %.1f s", pass[0], describe(requests.get(0)), (System.nanoTime() - start) / 1e9));
            List<SparsityPass.Sums> out = new ArrayList<>();
            for (int m = 0; m < requests.size(); m++) {
                out.add(merged.get(m));
            }
            return out;
        };
        List<SparsityRunner.Report> reports = SparsitySearch.run(passes, s.models().size(), layers, s.cett(), s.pplP(), s.tolerance());
        shared.destroy();
        return reports;
    }

    private static SparsityPass.Sums shard(Settings s, int model, int shard, List<Prompt> prompts, SparsityPass.Request req) {
        ExecutorModels.Loaded lm = ExecutorModels.get(s.models().get(model), ExecutorModels.taskDevice(s.device()));
        List<long[]> seqs = new ArrayList<>();
        for (int i = shard; i < prompts.size(); i += s.shards()) {
            long[] ids = prompts.get(i).tokens(lm.tokenizer(), lm.model().config().vocabSize());
            seqs.add(ids.length > s.maxSeqLen() ? Arrays.copyOf(ids, s.maxSeqLen()) : ids);
        }
        long start = System.nanoTime();
        SparsityPass.Sums sums = SparsityPass.run(lm.model(), seqs, s.batchSize(), s.eps(), req);
        LOG.info(String.format("sparsity: checkpoint %d shard %d: %d tokens in %.1f s", model, shard, sums.tokens,
                (System.nanoTime() - start) / 1e9));
        return sums;
    }

    private static String describe(SparsityPass.Request r) {
        List<String> parts = new ArrayList<>();
        if (r.stats()) {
            parts.add("statistics and dense loss");
        }
        if (r.grids() != null) {
            parts.add("CETT at " + r.grids()[0].length + " thresholds per layer");
        }
        if (r.thresholds() != null) {
            parts.add("sparse loss");
        }
        return String.join(", ", parts);
    }
}
