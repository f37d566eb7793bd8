package io.loupe.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.loupe.forward.Prompt;
import io.loupe.forward.PromptReader;
import io.loupe.jobs.CheckpointSeries;
import io.loupe.jobs.JobFiles;
import io.loupe.jobs.ModelFiles;
import io.loupe.jobs.SparkSessions;
import io.loupe.jobs.sparsity.SparsityJob;
import io.loupe.jobs.sparsity.SparsityOutput;
import io.loupe.model.ModelConfig;
import io.loupe.model.ModelLoader;
import io.loupe.sparsity.SparsityRunner;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code loupe sparsity}: activation sparsity per layer at a CETT target or at PPL-p%, for one model or a checkpoint series. */
@Command(name = "sparsity", mixinStandardHelpOptions = true,
        description = {"Measures activation sparsity over a prompt set: per layer the nonzero fraction, CETT threshold and activation",
                "ratio, dead neurons and massive activations; overall activation ratio; at --cett or at the target found by --ppl-p.",
                "Several models (a checkpoint series) run as one Spark job per data pass, one task per (checkpoint, prompt shard);",
                "with tokens_seen for 4+ checkpoints, the ReLU and SiLU sparsity laws are fitted. Writes <out>/summary.json,",
                "<out>/layers.parquet and <out>/plots/*.png. Options can come from @conf/sparsity.conf."})
final class SparsityCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, split = ",", description = {"Model directory, or several (a checkpoint series), any Hadoop URI;",
            "a folder of step<N> model directories (Pythia's layout, loupe train's output) is the series of them in step order."})
    List<String> models;
    @Option(names = "--tokens-per-step", description = {"For step<N> series whose config.json has no tokens_seen: tokens_seen = N x this",
            "(Pythia: 2097152, 1024 sequences of 2048 tokens)."})
    Double tokensPerStep;
    @Option(names = "--tokens-seen", split = ",",
            description = "Training tokens of each checkpoint, in --model order (default: each config.json's tokens_seen, if any).")
    List<Double> tokensSeen;
    @Option(names = "--prompts", required = true, description = "JSONL prompts ({id, text} or {id, token_ids}).")
    java.nio.file.Path prompts;

    static final class Target {
        @Option(names = "--cett", description = "CETT target shared by all layers, e.g. 0.2.")
        Double cett;
        @Option(names = "--ppl-p", description = "Find the CETT target whose sparsification raises perplexity by this fraction, e.g. 0.01.")
        Double pplP;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;
    @Option(names = "--tolerance", defaultValue = "0.004", description = "PPL-p%%: bisect the CETT target to this width (default: ${DEFAULT-VALUE}).")
    double tolerance;
    @Option(names = "--eps", defaultValue = "0", description = "|x| > eps counts as active (default: ${DEFAULT-VALUE}).")
    double eps;
    @Option(names = "--batch-size", defaultValue = "8", description = "Sequences per forward pass (default: ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--max-seq-len", defaultValue = "512", description = "Keep each prompt's first tokens (default: ${DEFAULT-VALUE}).")
    int maxSeqLen;
    @Option(names = "--shards", defaultValue = "0", description = "Prompt shards per checkpoint, one task each; 0 = Spark's default parallelism.")
    int shards;
    @Option(names = "--device", defaultValue = "auto", description = "cpu, gpu, gpu:N or auto when Spark assigns no GPU (default: ${DEFAULT-VALUE}).")
    String device;
    @Option(names = "--master", description = "Spark master; default: spark-submit's, else " + SparkSessions.LOCAL_DEFAULT + ".")
    String master;
    @Option(names = "--out", required = true, description = "Output folder (any Hadoop URI); its files are replaced.")
    String out;

    @Override
    public Integer call() throws Exception {
        List<Prompt> list = PromptReader.readJsonl(prompts);
        SparkSession spark = SparkSessions.getOrCreate("loupe sparsity", master);
        Configuration hconf = spark.sparkContext().hadoopConfiguration();
        List<CheckpointSeries.Checkpoint> series = new ArrayList<>();
        for (String m : models) {
            series.addAll(CheckpointSeries.expand(JobFiles.qualify(m, hconf), hconf));
        }
        if (tokensSeen != null && tokensSeen.size() != series.size()) {
            throw new IllegalArgumentException("--tokens-seen has " + tokensSeen.size() + " values for " + series.size() + " checkpoints");
        }
        List<String> checkpoints = series.stream().map(CheckpointSeries.Checkpoint::uri).toList();
        List<String> uris = new ArrayList<>();
        double[] seen = new double[checkpoints.size()];
        ModelConfig first = null;
        for (int i = 0; i < checkpoints.size(); i++) {   // every checkpoint is checked before any work starts
            String uri = checkpoints.get(i);
            java.nio.file.Path dir = ModelFiles.local(uri, hconf);
            ModelConfig cfg = ModelLoader.inspect(dir);
            if (first != null && (cfg.numLayers() != first.numLayers() || cfg.dMlp() != first.dMlp())) {
                throw new IllegalArgumentException(checkpoints.get(i) + ": " + cfg.numLayers() + " layers x d_mlp " + cfg.dMlp()
                        + " differs from the first checkpoint's " + first.numLayers() + " x " + first.dMlp());
            }
            first = first == null ? cfg : first;
            if (list.stream().anyMatch(pr -> pr.tokenIds() == null) && !Files.exists(dir.resolve("tokenizer.json"))) {
                throw new IllegalArgumentException(checkpoints.get(i) + " has no tokenizer.json; give the prompts as token_ids");
            }
            seen[i] = tokensSeen != null ? tokensSeen.get(i) : configTokensSeen(dir);
            if (Double.isNaN(seen[i]) && tokensPerStep != null && series.get(i).step() >= 0) {
                seen[i] = tokensPerStep * series.get(i).step();
            }
            uris.add(uri);
        }
        int n = shards > 0 ? shards : spark.sparkContext().defaultParallelism();
        SparsityJob.Settings s = new SparsityJob.Settings(uris, n, batchSize, maxSeqLen, eps, target.cett, target.pplP, tolerance, device);
        Console.info(String.format("sparsity: %d checkpoint(s) x %d prompts in %d shards, %s -> %s", uris.size(), list.size(), n,
                target.cett != null ? "CETT " + target.cett : "PPL-" + 100 * target.pplP + "%", out));
        long start = System.nanoTime();
        List<SparsityRunner.Report> reports = SparsityJob.run(spark, s, list, first.numLayers());
        double seconds = (System.nanoTime() - start) / 1e9;
        Map<String, Object> summary = SparsityOutput.write(spark, uris, seen, reports, JobFiles.qualify(out, hconf), seconds);
        for (int i = 0; i < reports.size(); i++) {
            SparsityRunner.Report r = reports.get(i);
            Console.info(String.format("sparsity: %s: CETT target %.3f, activation ratio %.3f, PPL ratio %.4f over %d tokens", checkpoints.get(i),
                    r.cettTarget(), r.overallActivationRatio(), Math.exp(r.lossSparse() - r.lossDense()), r.tokens()));
        }
        Console.info("sparsity: law fit: " + summary.get("law_fit"));
        Console.info(String.format("sparsity: %.1f s; wrote %s/summary.json, layers.parquet, plots/", seconds, out));
        return 0;
    }

    /** {@code tokens_seen} from a checkpoint's config.json, or NaN. */
    private static double configTokensSeen(java.nio.file.Path dir) throws java.io.IOException {
        JsonObject o = JsonParser.parseString(Files.readString(dir.resolve("config.json"))).getAsJsonObject();
        return o.has("tokens_seen") && !o.get("tokens_seen").isJsonNull() ? o.get("tokens_seen").getAsDouble() : Double.NaN;
    }
}
