package io.loupe.jobs.circuits;

import io.loupe.circuits.Circuits;
import io.loupe.jobs.JobFiles;
import io.loupe.circuits.EvalSums;
import io.loupe.circuits.Method;
import io.loupe.circuits.Node;
import io.loupe.circuits.NodeType;
import io.loupe.circuits.ScoreSums;
import io.loupe.model.ModelConfig;
import io.loupe.plot.Heatmap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a circuits result: {@code scores.parquet} (one row per method and node), {@code summary.json}
 * and PNG heatmaps under {@code plots/} (layer × position for resid_pre, layer × head for heads, layer ×
 * {attn_out, mlp_out}). Every file is replaced whole, so a re-run leaves one copy.
 */
public final class CircuitsOutput {
    public static final StructType SCHEMA = new StructType()
            .add("method", DataTypes.StringType, false)
            .add("direction", DataTypes.StringType, false)
            .add("node", DataTypes.StringType, false)
            .add("node_type", DataTypes.StringType, false)
            .add("layer", DataTypes.IntegerType, false)
            .add("position", DataTypes.IntegerType, true)
            .add("head", DataTypes.IntegerType, true)
            .add("mean_metric", DataTypes.DoubleType, false)
            .add("effect", DataTypes.DoubleType, false)
            .add("score", DataTypes.DoubleType, false)
            .add("examples", DataTypes.LongType, false)
            .add("in_circuit", DataTypes.BooleanType, false);

    private CircuitsOutput() {
    }

    /**
     * @param other another run's circuit to report the overlap with ({@link #circuitOf}), or null
     * @return the summary written to summary.json
     */
    public static Map<String, Object> write(SparkSession spark, CircuitsSettings s, CircuitsJob.Result r, ModelConfig cfg, int seqLen,
                                            String out, double seconds, Other other) throws IOException {
        List<Row> rows = new ArrayList<>();
        for (var e : r.scores().entrySet()) {
            Set<Node> circuit = r.circuits().get(e.getKey());
            for (ScoreSums.Score sc : e.getValue().scores()) {
                Node n = sc.node();
                rows.add(RowFactory.create(e.getKey().label(), s.direction().name().toLowerCase(), n.name(), n.type().label(), n.layer(),
                        n.type() == NodeType.RESID_POS ? n.index() : null, n.type() == NodeType.HEAD ? n.index() : null, sc.meanMetric(),
                        sc.effect(), sc.score(), sc.count(), circuit.contains(n)));
            }
        }
        spark.createDataFrame(rows, SCHEMA).coalesce(1).write().mode(SaveMode.Overwrite).parquet(out + "/scores.parquet");

        Map<String, Object> summary = summary(s, r, seqLen, seconds);
        if (other != null && r.evaluation() != null) {
            Set<String> mine = new java.util.LinkedHashSet<>();
            r.circuits().get(s.primary()).forEach(n -> mine.add(n.name()));
            Map<String, Object> ov = new LinkedHashMap<>();
            ov.put("other", other.out());
            ov.put("iou", Circuits.iou(mine, other.nodes()));
            ov.put("this_in_other", Circuits.containment(mine, other.nodes()));
            ov.put("other_in_this", Circuits.containment(other.nodes(), mine));
            summary.put("circuit_overlap_with", ov);
        }
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        JobFiles.writeJson(conf, new Path(out, "summary.json"), summary);
        java.nio.file.Path plots = Files.createTempDirectory("loupe-plots-");
        for (var e : r.scores().entrySet()) {
            heatmaps(e.getKey(), s, e.getValue(), cfg, seqLen, plots);
        }
        JobFiles.replaceWithLocal(conf, plots, new Path(out, "plots"));
        io.loupe.jobs.RunReport.write(conf, out, "circuits");
        return summary;
    }

    /** Another run's circuit: its output folder and the names of its nodes. */
    public record Other(String out, Set<String> nodes) {
    }

    /** The circuit in another run's {@code summary.json}; read before any work, so a wrong folder fails first. */
    public static Other circuitOf(Configuration conf, String otherOut) throws IOException {
        Path p = new Path(otherOut, "summary.json");
        FileSystem fs = p.getFileSystem(conf);
        if (!fs.exists(p)) {
            throw new IllegalArgumentException(otherOut + ": no summary.json (not a circuits output)");
        }
        com.google.gson.JsonObject o;
        try (var in = fs.open(p)) {
            o = com.google.gson.JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
        }
        if (!o.has("circuit")) {
            throw new IllegalArgumentException(otherOut + ": its summary has no circuit (it scored no heads or MLPs)");
        }
        Set<String> nodes = new java.util.LinkedHashSet<>();
        o.getAsJsonObject("circuit").getAsJsonArray("nodes").forEach(n -> nodes.add(n.getAsString()));
        return new Other(otherOut, nodes);
    }

    private static Map<String, Object> summary(CircuitsSettings s, CircuitsJob.Result r, int seqLen, double seconds) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", s.model());
        m.put("task", s.task());
        m.put("examples", r.examples());
        m.put("seq_len", seqLen);
        m.put("direction", s.direction().name().toLowerCase());
        m.put("metric", "logit difference (answer - wrong) at the answer position");
        ScoreSums any = r.scores().values().iterator().next();
        m.put("mean_logit_diff_clean", any.meanClean());
        m.put("mean_logit_diff_corrupt", any.meanCorrupt());
        Map<String, Object> methods = new LinkedHashMap<>();
        for (var e : r.scores().entrySet()) {
            Map<String, Object> mm = new LinkedHashMap<>();
            List<Map<String, Object>> top = new ArrayList<>();
            e.getValue().scores().stream().filter(x -> !Double.isNaN(x.score()))
                    .sorted((a, b) -> Double.compare(Math.abs(b.score()), Math.abs(a.score()))).limit(10)
                    .forEach(x -> top.add(Map.of("node", x.node().name(), "score", x.score())));
            mm.put("top_nodes", top);
            mm.put("circuit", r.circuits().get(e.getKey()).stream().map(Node::name).toList());
            methods.put(e.getKey().label(), mm);
        }
        m.put("methods", methods);
        if (r.scores().size() == 2) {
            Map<String, Object> corr = new LinkedHashMap<>();
            for (NodeType t : s.nodeTypes()) {
                List<ScoreSums.Score> a = ofType(r.scores().get(Method.PATCH), t), b = ofType(r.scores().get(Method.ATTRIB), t);
                corr.put(t.label(), Circuits.pearson(a.stream().mapToDouble(ScoreSums.Score::score).toArray(),
                        b.stream().mapToDouble(ScoreSums.Score::score).toArray()));
            }
            m.put("pearson_patch_vs_attrib", corr);
            Set<Node> cp = r.circuits().get(Method.PATCH), ca = r.circuits().get(Method.ATTRIB);
            m.put("circuit_overlap", Map.of("iou", Circuits.iou(cp, ca), "patch_in_attrib", Circuits.containment(cp, ca),
                    "attrib_in_patch", Circuits.containment(ca, cp)));
        }
        EvalSums ev = r.evaluation();
        if (ev != null) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("chosen_by", s.primary().label() + (Double.isNaN(s.threshold()) ? " top-" + s.topN() : " |score| >= " + s.threshold()));
            c.put("components", r.components().size());
            c.put("nodes", r.circuits().get(s.primary()).stream().map(Node::name).toList());
            c.put("ablation", s.ablation().name().toLowerCase());
            c.put("m_full", ev.meanFull());
            c.put("m_circuit", ev.meanCircuit());
            c.put("m_empty", ev.meanEmpty());
            c.put("m_complement", ev.meanComplement());
            c.put("faithfulness", ev.faithfulness());
            c.put("completeness", ev.completeness());
            m.put("circuit", c);
        }
        m.put("seconds", seconds);
        return m;
    }

    private static List<ScoreSums.Score> ofType(ScoreSums sums, NodeType t) {
        return sums.scores().stream().filter(x -> x.node().type() == t).toList();
    }

    private static void heatmaps(Method method, CircuitsSettings s, ScoreSums sums, ModelConfig cfg, int seqLen, java.nio.file.Path dir)
            throws IOException {
        int layers = cfg.numLayers();
        Map<NodeType, double[][]> grids = new LinkedHashMap<>();
        for (ScoreSums.Score sc : sums.scores()) {
            Node n = sc.node();
            int cols = switch (n.type()) {
                case RESID_POS -> seqLen;
                case HEAD -> cfg.numHeads();
                default -> 2;
            };
            NodeType key = n.type() == NodeType.MLP ? NodeType.ATTN : n.type();   // attn_out and mlp_out share one plot
            double[][] g = grids.computeIfAbsent(key, k -> {
                double[][] a = new double[layers][cols];
                for (double[] row : a) {
                    Arrays.fill(row, Double.NaN);
                }
                return a;
            });
            int col = switch (n.type()) {
                case ATTN -> 0;
                case MLP -> 1;
                default -> n.index();
            };
            g[n.layer()][col] = sc.score();
        }
        String dirName = s.direction().name().toLowerCase();
        for (var e : grids.entrySet()) {
            String what = switch (e.getKey()) {
                case RESID_POS -> "resid_pre";
                case HEAD -> "heads";
                default -> "attn_mlp";
            };
            String cols = switch (e.getKey()) {
                case RESID_POS -> "position";
                case HEAD -> "head";
                default -> "0 = attn_out, 1 = mlp_out";
            };
            Heatmap.write(dir.resolve(method.label() + "_" + what + ".png"), method.label() + " (" + dirName + ") " + what + ": normalised score",
                    e.getValue(), "layer", cols);
        }
    }
}
