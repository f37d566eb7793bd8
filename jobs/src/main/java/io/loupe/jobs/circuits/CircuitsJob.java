package io.loupe.jobs.circuits;

import io.loupe.circuits.AblationMeans;
import io.loupe.circuits.Circuits;
import io.loupe.circuits.EvalSums;
import io.loupe.circuits.Method;
import io.loupe.circuits.Node;
import io.loupe.circuits.NodeType;
import io.loupe.circuits.ScoreSums;
import io.loupe.circuits.ShardScoring;
import io.loupe.circuits.TaskExample;
import io.loupe.hooks.HookPoint;
import io.loupe.jobs.ExecutorModels;
import io.loupe.model.LanguageModel;
import io.loupe.model.ModelConfig;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The circuits job: examples are split into shards (one Spark task each, fixed by their order, so a
 * retried task recomputes the same shard); each task scores every node with the executor's shared model
 * and returns sums, which the driver merges exactly. Then, if the chosen nodes include components
 * (heads, MLPs), a circuit is chosen from the scores and evaluated in one or two more passes (the
 * corrupted-prompt means first, for mean ablation). Outputs are written by {@link CircuitsOutput}.
 */
public final class CircuitsJob {
    private static final Logger LOG = LoggerFactory.getLogger(CircuitsJob.class);

    /** What the job found. */
    public record Result(Map<Method, ScoreSums> scores, Map<Method, Set<Node>> circuits, EvalSums evaluation, List<Node> components,
                         long examples) {
    }

    private CircuitsJob() {
    }

    public static Result run(SparkSession spark, CircuitsSettings s, List<TaskExample> examples, int seqLen, ModelConfig cfg) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<Node> nodes = Node.enumerate(cfg, s.nodeTypes(), seqLen);
        JavaRDD<TaskExample> rdd = jsc.parallelize(examples, Math.min(s.partitions(), examples.size())).cache();

        spark.sparkContext().setJobDescription("loupe circuits: " + s.methods() + " over " + nodes.size() + " nodes, " + examples.size() + " examples");
        ShardScoring.Sums sums = rdd.mapPartitions(it -> {
            LanguageModel m = model(s);
            return List.of(ShardScoring.score(m, it, nodes, s.methods(), s.direction(), s.batchSize(), s.maxRows(), log())).iterator();
        }).reduce(ShardScoring.Sums::merge);

        List<Node> components = nodes.stream().filter(CircuitsJob::isComponent).toList();
        Map<Method, Set<Node>> circuits = new LinkedHashMap<>();
        for (var e : sums.byMethod().entrySet()) {
            Map<Node, Double> scores = new LinkedHashMap<>();
            for (ScoreSums.Score sc : e.getValue().scores()) {
                if (isComponent(sc.node())) {
                    scores.put(sc.node(), sc.score());
                }
            }
            circuits.put(e.getKey(), Double.isNaN(s.threshold()) ? Circuits.topN(scores, s.topN()) : Circuits.threshold(scores, s.threshold()));
        }
        EvalSums eval = null;
        if (!components.isEmpty()) {
            Set<HookPoint> points = new LinkedHashSet<>();
            components.forEach(n -> points.add(n.hook()));
            Broadcast<AblationMeans> means = null;
            if (s.ablation() == io.loupe.circuits.Ablation.MEAN) {
                spark.sparkContext().setJobDescription("loupe circuits: means over the corrupted prompts");
                means = jsc.broadcast(rdd.mapPartitions(it -> List.of(ShardScoring.means(model(s), it, points, s.batchSize(), log())).iterator())
                        .reduce(AblationMeans::merge));
            }
            Set<Node> circuit = circuits.get(s.primary());
            Broadcast<AblationMeans> meansB = means;
            spark.sparkContext().setJobDescription("loupe circuits: faithfulness and completeness of " + circuit.size() + " components");
            eval = rdd.mapPartitions(it -> List.of(ShardScoring.evaluate(model(s), it, components, circuit, s.ablation(),
                    meansB == null ? null : meansB.value(), s.batchSize(), log())).iterator()).reduce(EvalSums::merge);
        }
        rdd.unpersist();
        return new Result(sums.byMethod(), circuits, eval, components, examples.size());
    }

    /** Circuits are chosen among heads and MLPs (whole attention outputs would overlap the heads). */
    private static boolean isComponent(Node n) {
        return n.type() == NodeType.HEAD || n.type() == NodeType.MLP;
    }

    private static LanguageModel model(CircuitsSettings s) {
        return ExecutorModels.get(s.model(), ExecutorModels.taskDevice(s.device())).model();
    }

    private static Consumer<String> log() {
        TaskContext tc = TaskContext.get();
        String who = tc == null ? "circuits" : "circuits partition " + tc.partitionId();
        return line -> LOG.info(who + ": " + line);
    }
}
