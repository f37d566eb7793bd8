package io.loupe.cli;

import com.google.gson.JsonObject;
import io.loupe.collect.ValueDtype;
import io.loupe.dict.Architecture;
import io.loupe.dict.SaeConfig;
import io.loupe.jobs.JobFiles;
import io.loupe.jobs.SparkSessions;
import io.loupe.jobs.collect.Manifest;
import io.loupe.jobs.fit.FitSweepJob;
import io.loupe.jobs.fit.FitTask;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code loupe fit}: sparse dictionaries on a collect dataset. Every list-valued option spans a grid
 * (hooks × architectures × widths × k × L1 × L0 × learning rates); each point is one Spark task.
 */
@Command(name = "fit", mixinStandardHelpOptions = true,
        description = {"Fits sparse dictionaries on a collect dataset: one, or a sweep (comma-separated values span a grid,",
                "one Spark task per dictionary). Each is evaluated on held-out prompts (MSE, FVU, L0, dead/dense latents,",
                "density histogram, CE loss recovered through the model) and written as a SAELens-layout checkpoint under --out;",
                "the driver writes results.parquet and results.csv. Options can come from a file: @conf/fit.conf."})
final class FitCommand implements Callable<Integer> {
    @Option(names = "--activations", required = true, description = "A collect output (any Hadoop URI).")
    String activations;
    @Option(names = "--hook", required = true, split = ",",
            description = {"Hook(s) to fit, e.g. blocks.2.hook_resid_post; a transcoder is source:target, e.g.",
                    "blocks.1.hook_resid_mid:blocks.1.hook_mlp_out (both hooks from the same collect run)."})
    List<String> hooks;
    @Option(names = "--model", required = true, description = "The model the activations came from (for CE loss recovered).")
    String model;
    @Option(names = "--architecture", defaultValue = "topk", split = ",", description = "relu, topk, batchtopk, jumprelu, gated, matryoshka (default: ${DEFAULT-VALUE}).")
    List<String> architectures;
    @Option(names = "--model-name", description = {"The model's name in checkpoints' cfg.json metadata (e.g. a TransformerLens id such as",
            "tinystories-1M); default: the --model URI."})
    String modelName;
    @Option(names = "--width", defaultValue = "512", split = ",", description = "Dictionary width(s) d_sae (default: ${DEFAULT-VALUE}).")
    List<Integer> widths;
    @Option(names = "--k", defaultValue = "16", split = ",", description = "Active latents per token, TopK/BatchTopK/Matryoshka (default: ${DEFAULT-VALUE}).")
    List<Integer> ks;
    @Option(names = "--l1", split = ",", description = {"L1 coefficient(s) on normalised activations, ReLU and Gated",
            "(default: 1 for ReLU, 2 for Gated)."})
    List<Double> l1s;
    @Option(names = "--l0", split = ",", description = "L0 coefficient(s) on normalised activations, JumpReLU (default: 0.3).")
    List<Double> l0s;
    @Option(names = "--lr", defaultValue = "1e-3", split = ",", description = "Adam learning rate(s) (default: ${DEFAULT-VALUE}).")
    List<Double> lrs;
    @Option(names = "--steps", defaultValue = "2000", description = "Optimizer steps (default: ${DEFAULT-VALUE}).")
    int steps;
    @Option(names = "--batch-size", defaultValue = "1024", description = "Tokens per step (default: ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--seed", defaultValue = "0", description = "Seed of initialisation, data order and the held-out split (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--eval-fraction", defaultValue = "0.1", description = "Share of prompts held out (default: ${DEFAULT-VALUE}).")
    double evalFraction;
    @Option(names = "--checkpoint-every", defaultValue = "0",
            description = "Steps between saved training states a killed task resumes from; 0 = a tenth of the steps (default: ${DEFAULT-VALUE}).")
    int checkpointEvery;
    @Option(names = "--shuffle-buffer-mb", defaultValue = "256",
            description = {"Autoencoders stream rows from Parquet through a shuffle buffer of this size (mixing files); 0 loads",
                    "every row into memory. Transcoders always load theirs (default: ${DEFAULT-VALUE})."})
    int shuffleBufferMb;
    @Option(names = "--fail-once-at-step", defaultValue = "-1", hidden = true, description = "Fault injection for tests.")
    int failOnceAtStep;
    @Option(names = "--allow-incomplete", description = "Fit on a collect output whose run has not finished (refused by default).")
    boolean allowIncomplete;
    @Option(names = "--master", description = "Spark master; default: spark-submit's, else " + SparkSessions.LOCAL_DEFAULT + ".")
    String master;
    @Option(names = "--out", required = true, description = "Output folder: one checkpoint folder per dictionary, results.parquet, results.csv.")
    String out;

    @Override
    public Integer call() throws Exception {
        SparkSession spark = SparkSessions.getOrCreate("loupe fit", master);
        JsonObject manifest = Manifest.readForUse(spark.sparkContext().hadoopConfiguration(), activations, allowIncomplete);
        JsonObject stored = manifest.getAsJsonObject("hooks");
        List<FitTask> grid = new ArrayList<>();
        for (String spec : hooks) {
            String[] parts = spec.split(":", -1);
            if (parts.length > 2) {
                throw new IllegalArgumentException("--hook " + spec + ": use a hook name, or source:target for a transcoder");
            }
            for (String h : parts) {
                if (!stored.has(h)) {
                    throw new IllegalArgumentException(activations + " has no hook " + h + "; it has " + stored.keySet());
                }
            }
            String hook = parts[0], target = parts.length == 2 ? parts[1] : null;
            if (target != null && !io.loupe.hooks.HookPoint.parse(hook).before(io.loupe.hooks.HookPoint.parse(target))) {
                throw new IllegalArgumentException("--hook " + spec + ": a transcoder's source must come before its target in the forward pass");
            }
            int dIn = stored.getAsJsonObject(hook).get("width").getAsInt();
            int dOut = target == null ? 0 : stored.getAsJsonObject(target).get("width").getAsInt();
            for (String a : architectures) {
                Architecture arch = Architecture.parse(a);
                grid.addAll(FitTask.grid(spec, hook, target, arch, dIn, dOut, widths, ks,
                        arch.usesL1() && l1s != null ? l1s : List.of(SaeConfig.defaultL1(arch)),
                        arch == Architecture.JUMPRELU && l0s != null ? l0s : List.of(SaeConfig.DEFAULT_L0), lrs, steps, batchSize, seed));
            }
        }
        Console.info("fit: " + grid.size() + " dictionar" + (grid.size() == 1 ? "y" : "ies") + " as Spark tasks -> " + out);
        long start = System.nanoTime();
        List<Map<String, Object>> results = FitSweepJob.run(spark, grid, activations, ValueDtype.parse(manifest.get("dtype").getAsString()),
                model, out, new FitSweepJob.Options(evalFraction, checkpointEvery, shuffleBufferMb, failOnceAtStep,
                        modelName != null ? modelName : JobFiles.qualify(model, spark.sparkContext().hadoopConfiguration()),
                        contextSize(manifest)));
        for (Map<String, Object> r : results) {
            Console.info(String.format("fit: %s  FVU %.4f  L0 %.1f  dead %s  dense %s  CE recovered %.3f  KL %.4f", r.get("name"),
                    num(r.get("fvu")), num(r.get("mean_l0")), fmt(r.get("dead_latents")), fmt(r.get("dense_latents")),
                    num(r.get("ce_loss_recovered")), num(r.get("kl_to_clean"))));
            if (r.get("warnings") instanceof List<?> warnings) {
                warnings.forEach(w -> Console.info("fit: WARNING " + r.get("name") + ": " + w));
            }
        }
        Console.info(String.format("fit: %d dictionaries in %.1f s; results in %s/results.parquet and results.csv", results.size(),
                (System.nanoTime() - start) / 1e9, out));
        return 0;
    }

    /** The collect run's fixed window (settings.context_size), or its max_seq_len when it kept documents whole; 0 if unknown. */
    private static int contextSize(JsonObject manifest) {
        if (!manifest.has("settings")) {
            return 0;
        }
        JsonObject s = manifest.getAsJsonObject("settings");
        int fixed = s.has("context_size") ? s.get("context_size").getAsInt() : 0;
        return fixed > 0 ? fixed : s.has("max_seq_len") ? s.get("max_seq_len").getAsInt() : 0;
    }

    static double num(Object o) {
        return o instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    private static String fmt(Object o) {
        return o instanceof Number n ? String.valueOf(n.longValue()) : "?";
    }
}
