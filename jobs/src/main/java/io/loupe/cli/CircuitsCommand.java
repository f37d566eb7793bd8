package io.loupe.cli;

import io.loupe.circuits.Ablation;
import io.loupe.circuits.Direction;
import io.loupe.circuits.Method;
import io.loupe.circuits.NodeType;
import io.loupe.circuits.TaskExample;
import io.loupe.circuits.TaskGenerators;
import io.loupe.circuits.TaskReader;
import io.loupe.jobs.JobFiles;
import io.loupe.jobs.ModelFiles;
import io.loupe.jobs.SparkSessions;
import io.loupe.jobs.circuits.CircuitsJob;
import io.loupe.jobs.circuits.CircuitsOutput;
import io.loupe.jobs.circuits.CircuitsSettings;
import io.loupe.model.ModelConfig;
import io.loupe.model.ModelLoader;
import io.loupe.tokenize.PromptTokenizer;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code loupe circuits}: activation and attribution patching on a task, and the faithfulness of the circuit they find. */
@Command(name = "circuits", mixinStandardHelpOptions = true,
        description = {"Scores which residual positions, attention and MLP outputs and heads carry a behaviour (logit difference",
                "answer - wrong), by activation patching and/or attribution patching, as a Spark job over example shards.",
                "Then picks a circuit of heads and MLPs from the scores and measures its faithfulness and completeness.",
                "Writes <out>/scores.parquet, <out>/summary.json and <out>/plots/*.png. Options can come from @conf/circuits.conf."})
final class CircuitsCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Model directory (any Hadoop URI).")
    String model;
    @Option(names = "--task", required = true, description = "induction, ioi, or a JSONL file of {clean, corrupt, answer, wrong[, answer_pos, id]}.")
    String task;
    @Option(names = "--method", defaultValue = "patch,attrib", split = ",", description = "patch and/or attrib (default: ${DEFAULT-VALUE}).")
    List<String> methods;
    @Option(names = "--direction", defaultValue = "denoise", description = "denoise (clean into corrupt) or noise (default: ${DEFAULT-VALUE}).")
    String direction;
    @Option(names = "--nodes", defaultValue = "resid_pre,attn_out,mlp_out,head", split = ",",
            description = "Node types to score (default: ${DEFAULT-VALUE}).")
    List<String> nodeTypes;
    @Option(names = "--examples", defaultValue = "64", description = "Examples to generate for induction/ioi (default: ${DEFAULT-VALUE}).")
    int examples;
    @Option(names = "--induction-half", defaultValue = "10", description = "Length of one random copy in induction (default: ${DEFAULT-VALUE}).")
    int half;
    @Option(names = "--names", split = ",", description = "Names for ioi (default: a built-in list, filtered to single tokens).")
    List<String> names;
    @Option(names = "--seed", defaultValue = "0", description = "Seed of the generated examples (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--batch-size", defaultValue = "8", description = "Examples per batch (default: ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--max-rows", defaultValue = "256",
            description = "Most sequences in one patching forward pass, nodes x examples (default: ${DEFAULT-VALUE}).")
    int maxRows;
    @Option(names = "--partitions", defaultValue = "0", description = "Example shards, one task each; 0 = Spark's default parallelism.")
    int partitions;
    @Option(names = "--top-n", defaultValue = "10", description = "Circuit = the n components with the largest |score| (default: ${DEFAULT-VALUE}).")
    int topN;
    @Option(names = "--threshold", description = "Circuit = components with |score| >= this (overrides --top-n).")
    Double threshold;
    @Option(names = "--ablation", defaultValue = "mean", description = "Outside the circuit: mean, zero or resample (default: ${DEFAULT-VALUE}).")
    String ablation;
    @Option(names = "--compare-with", description = "Another circuits output (its summary.json): report the overlap of the two circuits.")
    String compareWith;
    @Option(names = "--device", defaultValue = "auto", description = "cpu, gpu, gpu:N or auto when Spark assigns no GPU (default: ${DEFAULT-VALUE}).")
    String device;
    @Option(names = "--master", description = "Spark master; default: spark-submit's, else " + SparkSessions.LOCAL_DEFAULT + ".")
    String master;
    @Option(names = "--out", required = true, description = "Output folder (any Hadoop URI); its files are replaced.")
    String out;

    @Override
    public Integer call() throws Exception {
        Set<Method> ms = EnumSet.noneOf(Method.class);
        methods.forEach(m -> ms.add(Method.parse(m)));
        List<NodeType> types = nodeTypes.stream().map(NodeType::parse).distinct().toList();
        SparkSession spark = SparkSessions.getOrCreate("loupe circuits", master);
        Configuration hconf = spark.sparkContext().hadoopConfiguration();
        String modelUri = JobFiles.qualify(model, hconf);
        CircuitsOutput.Other other = compareWith == null ? null : CircuitsOutput.circuitOf(hconf, compareWith);
        java.nio.file.Path dir = ModelFiles.local(modelUri, hconf);
        ModelConfig cfg = ModelLoader.inspect(dir);
        List<TaskExample> ex = examples(dir, cfg);
        int seqLen = ex.stream().mapToInt(TaskExample::length).max().orElseThrow();
        int parts = partitions > 0 ? partitions : spark.sparkContext().defaultParallelism();
        CircuitsSettings s = new CircuitsSettings(modelUri, taskName(), ms, Direction.parse(direction), types, batchSize, maxRows, parts, topN,
                threshold == null ? Double.NaN : threshold, Ablation.parse(ablation), device);
        String outUri = JobFiles.qualify(out, hconf);
        Console.info(String.format("circuits: %d %s examples of %d tokens, methods %s, %s, %d shards -> %s", ex.size(), s.task(), seqLen,
                ms, s.direction().name().toLowerCase(), Math.min(parts, ex.size()), out));
        long start = System.nanoTime();
        CircuitsJob.Result r = CircuitsJob.run(spark, s, ex, seqLen, cfg);
        double seconds = (System.nanoTime() - start) / 1e9;
        Map<String, Object> summary = CircuitsOutput.write(spark, s, r, cfg, seqLen, outUri, seconds, other);
        Console.info(String.format("circuits: logit diff clean %.3f, corrupt %.3f over %d examples in %.1f s (%.2f examples/s)",
                summary.get("mean_logit_diff_clean"), summary.get("mean_logit_diff_corrupt"), r.examples(), seconds, r.examples() / seconds));
        @SuppressWarnings("unchecked")
        Map<String, Object> byMethod = (Map<String, Object>) summary.get("methods");
        byMethod.forEach((k, v) -> {
            StringBuilder top = new StringBuilder();
            List<?> nodes = (List<?>) ((Map<?, ?>) v).get("top_nodes");
            for (Object o : nodes.subList(0, Math.min(5, nodes.size()))) {
                Map<?, ?> n = (Map<?, ?>) o;
                top.append(String.format("%s %.3f  ", n.get("node"), (Double) n.get("score")));
            }
            Console.info("circuits: " + k + " top scores: " + top.toString().trim());
        });
        if (summary.containsKey("pearson_patch_vs_attrib")) {
            StringBuilder r2 = new StringBuilder();
            ((Map<?, ?>) summary.get("pearson_patch_vs_attrib")).forEach((k, v) -> r2.append(String.format("%s %.3f  ", k, (Double) v)));
            Console.info("circuits: Pearson r, patch vs attrib: " + r2.toString().trim());
        }
        if (summary.get("circuit") instanceof Map<?, ?> c) {
            Console.info(String.format("circuits: circuit of %d components: faithfulness %.3f, completeness %.3f (%s ablation)",
                    ((List<?>) c.get("nodes")).size(), c.get("faithfulness"), c.get("completeness"), c.get("ablation")));
        }
        if (summary.get("circuit_overlap_with") instanceof Map<?, ?> ov) {
            Console.info(String.format("circuits: overlap with %s: IoU %.3f, this in that %.3f, that in this %.3f", compareWith,
                    ov.get("iou"), ov.get("this_in_other"), ov.get("other_in_this")));
        }
        Console.info("circuits: wrote " + out + "/scores.parquet, summary.json, plots/");
        return 0;
    }

    private List<TaskExample> examples(java.nio.file.Path dir, ModelConfig cfg) throws IOException {
        boolean hasTokenizer = dir.resolve("tokenizer.json").toFile().exists();
        switch (task) {
            case "induction":
                return TaskGenerators.induction(cfg, examples, half, seed,
                        hasTokenizer ? TaskGenerators.wordTokens(dir.resolve("tokenizer.json"), cfg.vocabSize()) : null);
            case "ioi":
                try (PromptTokenizer tok = PromptTokenizer.load(dir, cfg)) {
                    return TaskGenerators.ioi(tok, cfg, examples, seed, names == null ? TaskGenerators.NAMES : names);
                }
            default:
                try (PromptTokenizer tok = hasTokenizer ? PromptTokenizer.load(dir, cfg) : null) {
                    return TaskReader.read(java.nio.file.Path.of(task), tok, cfg.vocabSize());
                }
        }
    }

    private String taskName() {
        return task.equals("induction") || task.equals("ioi") ? task : java.nio.file.Path.of(task).getFileName().toString();
    }
}
