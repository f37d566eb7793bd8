package io.loupe.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.loupe.collect.ValueDtype;
import io.loupe.dict.Architecture;
import io.loupe.dict.InMemorySource;
import io.loupe.dict.SaeConfig;
import io.loupe.dict.SaeMetrics;
import io.loupe.dict.SaeTrainer;
import io.loupe.dict.SparseAutoencoder;
import io.loupe.dict.SpliceEval;
import io.loupe.hooks.HookPoint;
import io.loupe.jobs.SparkSessions;
import io.loupe.model.LanguageModel;
import io.loupe.model.ModelLoader;
import io.loupe.model.Runtime;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

import static org.apache.spark.sql.functions.col;

/**
 * {@code loupe fit}: one dictionary on one hook of a collect dataset, trained on the driver (rows must fit
 * in memory), evaluated on held-out examples, written as a SAELens-layout checkpoint with metrics.
 */
@Command(name = "fit", mixinStandardHelpOptions = true,
        description = {"Fits one sparse dictionary on one hook of a collect dataset and evaluates it on held-out examples",
                "(MSE, FVU, L0, dead/dense latents, density histogram, and CE loss recovered through the model)."})
final class FitCommand implements Callable<Integer> {
    @Option(names = "--activations", required = true, description = "A collect output folder.")
    Path activations;
    @Option(names = "--hook", required = true, description = "Hook to fit, e.g. blocks.2.hook_resid_post.")
    String hook;
    @Option(names = "--model", required = true, description = "The model the activations came from (for CE loss recovered).")
    Path model;
    @Option(names = "--architecture", defaultValue = "topk", description = "relu, topk, batchtopk or jumprelu (default: ${DEFAULT-VALUE}).")
    String architecture;
    @Option(names = "--width", defaultValue = "512", description = "Dictionary width d_sae (default: ${DEFAULT-VALUE}).")
    int width;
    @Option(names = "--k", defaultValue = "16", description = "Active latents per token, TopK/BatchTopK (default: ${DEFAULT-VALUE}).")
    int k;
    @Option(names = "--l1", defaultValue = "5", description = "L1 coefficient, ReLU (default: ${DEFAULT-VALUE}).")
    double l1;
    @Option(names = "--l0", defaultValue = "0.08", description = "L0 coefficient, JumpReLU (default: ${DEFAULT-VALUE}).")
    double l0;
    @Option(names = "--steps", defaultValue = "2000", description = "Optimizer steps (default: ${DEFAULT-VALUE}).")
    int steps;
    @Option(names = "--batch-size", defaultValue = "1024", description = "Tokens per step (default: ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--lr", defaultValue = "1e-3", description = "Adam learning rate (default: ${DEFAULT-VALUE}).")
    double lr;
    @Option(names = "--seed", defaultValue = "0", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--eval-fraction", defaultValue = "0.1", description = "Share of examples held out (default: ${DEFAULT-VALUE}).")
    double evalFraction;
    @Option(names = "--out", required = true, description = "Checkpoint folder (sae_weights.safetensors, cfg.json, metrics.json).")
    Path out;

    @Override
    public Integer call() throws Exception {
        HookPoint point = HookPoint.parse(hook);
        Path manifest = activations.resolve("_loupe.json");
        if (!Files.isRegularFile(manifest)) {
            throw new IllegalArgumentException(activations + ": no _loupe.json; not a collect output");
        }
        JsonObject m = JsonParser.parseString(Files.readString(manifest)).getAsJsonObject();
        if (!m.getAsJsonObject("hooks").has(hook)) {
            throw new IllegalArgumentException(activations + " has no hook " + hook + "; it has " + m.getAsJsonObject("hooks").keySet());
        }
        int dIn = m.getAsJsonObject("hooks").getAsJsonObject(hook).get("width").getAsInt();
        ValueDtype dtype = ValueDtype.parse(m.get("dtype").getAsString());
        SparkSession spark = SparkSessions.getOrCreate("loupe fit", null);
        List<Row> rows = spark.read().parquet(activations.toString()).filter(col("hook").equalTo(hook))
                .select("example_id", "position", "token_id", "values").orderBy("example_id", "position").collectAsList();
        if (rows.isEmpty()) {
            throw new IllegalArgumentException(activations + ": no rows for " + hook);
        }
        // Split by example, so held-out tokens come from held-out prompts.
        List<float[]> train = new ArrayList<>(), eval = new ArrayList<>();
        Map<String, List<Long>> evalTokens = new TreeMap<>();
        long bad = 0;
        for (Row r : rows) {
            float[] v = dtype.decode(r.getAs("values"));
            if (v.length != dIn) {
                throw new IllegalArgumentException("row of width " + v.length + " where the manifest says " + dIn);
            }
            for (float x : v) {
                if (!Float.isFinite(x)) {
                    bad++;
                    break;
                }
            }
            String id = r.getAs("example_id");
            // A well-mixed hash of (id, seed): String.hashCode of similar ids ("p0", "p1", ...) differ only in the low digits.
            long h = java.util.UUID.nameUUIDFromBytes((id + "#" + seed).getBytes(java.nio.charset.StandardCharsets.UTF_8))
                    .getLeastSignificantBits();
            boolean held = Math.floorMod(h, 1000) < evalFraction * 1000;
            (held ? eval : train).add(v);
            if (held) {
                evalTokens.computeIfAbsent(id, x -> new ArrayList<>()).add((long) (int) r.getAs("token_id"));
            }
        }
        if (bad > 0) {
            throw new IllegalArgumentException(bad + " rows of " + hook + " hold NaN or Inf; refusing to train on them");
        }
        if (train.isEmpty() || eval.isEmpty()) {
            throw new IllegalArgumentException("need both training and held-out rows; got " + train.size() + " and " + eval.size()
                    + " (adjust --eval-fraction)");
        }
        Console.info(String.format("fit: %s, %d training and %d held-out tokens (%d prompts), d_in %d", hook, train.size(), eval.size(),
                evalTokens.size(), dIn));
        Architecture arch = Architecture.parse(architecture);
        SaeConfig cfg = SaeConfig.defaults(arch, dIn, width, Math.min(k, width)).withTraining(lr, steps, batchSize, Math.min(100, steps / 10),
                steps / 5).withSparsity(l1, l0).withSeed(seed).withDeadAfter(Math.max(10L * batchSize, 100_000L));
        try (NDManager nd = Runtime.newManager(ai.djl.Device.cpu());
             LanguageModel lm = ModelLoader.load(model, Runtime.device("auto"))) {
            NDArray trainX = matrix(nd, train, dIn), evalX = matrix(nd, eval, dIn);
            SaeTrainer.Result r = SaeTrainer.train(cfg, new InMemorySource(trainX, seed), trainX, nd, Math.max(1, steps / 10),
                    l -> Console.info(String.format("fit: step %d/%d loss %.4g (recon %.4g, sparsity %.4g, aux %.3g), L0 %.1f, dead %d",
                            l.step() + 1, steps, l.loss(), l.reconstruction(), l.sparsity(), l.aux(), l.meanL0(), l.dead())));
            SparseAutoencoder sae = r.sae();
            NDArray f = sae.encode(evalX), xHat = sae.decode(f);
            float[] freq = SaeMetrics.frequencies(f);
            SpliceEval.Result ce = SpliceEval.evaluate(lm, sae, point, evalTokens.values().stream()
                    .map(t -> t.stream().mapToLong(Long::longValue).toArray()).toList(), 8);
            Map<String, Object> metrics = new LinkedHashMap<>();
            metrics.put("hook", hook);
            metrics.put("held_out_tokens", eval.size());
            metrics.put("mse", SaeMetrics.mse(evalX, xHat));
            metrics.put("fvu", SaeMetrics.fvu(evalX, xHat));
            metrics.put("mean_l0", SaeMetrics.meanL0(f));
            metrics.put("dead_latents", SaeMetrics.dead(freq));
            metrics.put("dense_latents", SaeMetrics.dense(freq, 0.1));
            metrics.put("density_histogram_log10", Map.of("lo", -6, "bins", 12, "counts", SaeMetrics.densityHistogram(freq, -6, 12)));
            metrics.put("ce_clean", ce.ceClean());
            metrics.put("ce_recon", ce.ceRecon());
            metrics.put("ce_zero_ablation", ce.ceZero());
            metrics.put("ce_loss_recovered", ce.ceRecovered());
            metrics.put("kl_to_clean", ce.kl());
            metrics.put("train_tokens_per_second", r.tokensPerSecond());
            sae.save(out, Map.of("hook_name", hook, "hook_layer", point.layer(), "model_name", model.toString(),
                    "dataset_path", activations.toString(), "prepend_bos", true));
            Files.writeString(out.resolve("metrics.json"),
                    new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create().toJson(metrics) + "\n");
            Console.info(String.format("fit: held out: FVU %.4f, MSE %.4g, L0 %.1f, dead %d, dense %d; CE clean %.4f, recon %.4f, zero %.4f"
                            + " -> CE loss recovered %.3f, KL %.4f", metrics.get("fvu"), metrics.get("mse"), metrics.get("mean_l0"),
                    metrics.get("dead_latents"), metrics.get("dense_latents"), ce.ceClean(), ce.ceRecon(), ce.ceZero(), ce.ceRecovered(), ce.kl()));
            Console.info("fit: wrote " + out + " (sae_weights.safetensors, cfg.json, metrics.json) in " + String.format("%.1f s", r.seconds()));
        }
        return 0;
    }

    private static NDArray matrix(NDManager m, List<float[]> rows, int d) {
        float[] flat = new float[rows.size() * d];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(rows.get(i), 0, flat, i * d, d);
        }
        return m.create(flat, new Shape(rows.size(), d)).duplicate();   // duplicate: owned by libtorch, not a Java buffer
    }
}
