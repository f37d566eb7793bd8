package io.loupe.cli;

import io.loupe.collect.ActivationCollector;
import io.loupe.dict.Architecture;
import io.loupe.dict.EndToEndTrainer;
import io.loupe.hooks.HookPoint;
import io.loupe.jobs.JobFiles;
import io.loupe.jobs.SparkSessions;
import io.loupe.jobs.fit.EndToEndFitJob;
import io.loupe.jobs.fit.FitTask;
import io.loupe.jobs.train.ModelSource;
import io.loupe.jobs.train.TrainSweepJob;
import io.loupe.model.ModelConfig;
import io.loupe.collect.Example;
import io.loupe.dict.FitRun;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code loupe fit-e2e}: end-to-end dictionaries (Braun et al.), trained through the model from prompts. */
@Command(name = "fit-e2e", mixinStandardHelpOptions = true,
        description = {"Trains sparse autoencoders end to end (Braun et al. 2024): the reconstruction is spliced into the forward pass",
                "and the loss is KL(clean || spliced) of the next-token distributions plus the sparsity term; e2e+ds adds the relative",
                "error of every later resid_post. Runs from prompts and the model (no stored activations), one Spark task per",
                "configuration, and evaluates like fit (held-out FVU, L0, CE loss recovered). Writes one checkpoint folder per",
                "dictionary, results.parquet, results.csv and report.html."})
final class FitE2eCommand implements Callable<Integer> {
    @Option(names = "--prompts", required = true, description = "Texts (JSONL with id and text, or Parquet), any Hadoop URI.")
    String prompts;
    @Option(names = "--format", defaultValue = "auto", description = "auto, json or parquet (default: ${DEFAULT-VALUE}).")
    String format;
    @Option(names = "--model", required = true, description = "The model directory (Hugging Face layout).")
    String model;
    @Option(names = "--model-name", description = "The model's name in checkpoints' metadata (default: the --model URI).")
    String modelName;
    @Option(names = "--hook", required = true, split = ",", description = "Hook(s), e.g. blocks.2.hook_resid_post.")
    List<String> hooks;
    @Option(names = "--objective", defaultValue = "e2e", split = ",", description = "e2e and/or e2e+ds (default: ${DEFAULT-VALUE}).")
    List<String> objectives;
    @Option(names = "--architecture", defaultValue = "topk", split = ",", description = "relu (Braun et al.'s) or topk (default: ${DEFAULT-VALUE}).")
    List<String> architectures;
    @Option(names = "--width", defaultValue = "256", split = ",", description = "Dictionary width(s) (default: ${DEFAULT-VALUE}).")
    List<Integer> widths;
    @Option(names = "--k", defaultValue = "16", split = ",", description = "Active latents per token for topk (default: ${DEFAULT-VALUE}).")
    List<Integer> ks;
    @Option(names = "--l1", defaultValue = "0.01", split = ",", description = "L1 coefficient(s) for relu, against the KL (default: ${DEFAULT-VALUE}).")
    List<Double> l1s;
    @Option(names = "--lr", defaultValue = "1e-3", split = ",", description = "Adam learning rate(s) (default: ${DEFAULT-VALUE}).")
    List<Double> lrs;
    @Option(names = "--kl-coeff", defaultValue = "1", description = "Weight of the KL term (default: ${DEFAULT-VALUE}).")
    double klCoeff;
    @Option(names = "--ds-coeff", defaultValue = "1", description = "Weight of the downstream term of e2e+ds (default: ${DEFAULT-VALUE}).")
    double dsCoeff;
    @Option(names = "--steps", defaultValue = "400", description = "Optimizer steps (default: ${DEFAULT-VALUE}).")
    int steps;
    @Option(names = "--context-size", defaultValue = "128", description = "Tokens kept of each prompt (default: ${DEFAULT-VALUE}).")
    int contextSize;
    @Option(names = "--sequences", defaultValue = "8", description = "Prompts per step (default: ${DEFAULT-VALUE}).")
    int sequences;
    @Option(names = "--eval-fraction", defaultValue = "0.1", description = "Share of prompts held out, by fit's rule (default: ${DEFAULT-VALUE}).")
    double evalFraction;
    @Option(names = "--seed", defaultValue = "0", description = "Seed of initialisation, data order and the split (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--master", description = "Spark master; default: spark-submit's, else " + SparkSessions.LOCAL_DEFAULT + ".")
    String master;
    @Option(names = "--out", required = true, description = "Output folder.")
    String out;

    @Override
    public Integer call() throws Exception {
        SparkSession spark = SparkSessions.getOrCreate("loupe fit-e2e", master);
        Configuration hconf = spark.sparkContext().hadoopConfiguration();
        String qualifiedModel = JobFiles.qualify(model, hconf);
        ModelSource src = new ModelSource(null, qualifiedModel, qualifiedModel);
        ModelConfig cfg = src.config(hconf);
        List<EndToEndFitJob.Task> grid = new ArrayList<>();
        for (String h : hooks) {
            HookPoint hook = HookPoint.parse(h);
            hook.validate(cfg.numLayers());
            int dIn = ActivationCollector.width(cfg, hook);
            for (String objective : objectives) {
                EndToEndTrainer.Settings settings = switch (objective) {
                    case "e2e" -> new EndToEndTrainer.Settings(List.of(), klCoeff, dsCoeff, sequences);
                    case "e2e+ds" -> {
                        List<HookPoint> later = EndToEndTrainer.Settings.laterResidPosts(hook, cfg.numLayers());
                        if (later.isEmpty()) {
                            throw new IllegalArgumentException("--objective e2e+ds at " + h + ": no later layer to reconstruct");
                        }
                        yield new EndToEndTrainer.Settings(later, klCoeff, dsCoeff, sequences);
                    }
                    default -> throw new IllegalArgumentException("--objective " + objective + ": use e2e or e2e+ds");
                };
                for (String a : architectures) {
                    Architecture arch = Architecture.parse(a);
                    if (arch != Architecture.RELU && arch != Architecture.TOPK) {
                        throw new IllegalArgumentException("--architecture " + a + ": end-to-end training takes relu or topk");
                    }
                    for (FitTask t : FitTask.grid(h, h, null, arch, dIn, 0, widths, ks, arch.usesL1() ? l1s : List.of(0.0), List.of(0.0), lrs,
                            steps, sequences * contextSize, seed)) {
                        grid.add(new EndToEndFitJob.Task(t, settings));
                    }
                }
            }
        }
        Console.info("fit-e2e: reading and tokenising " + prompts);
        TrainSweepJob.Encoded encoded = TrainSweepJob.encode(spark, JobFiles.qualify(prompts, hconf), format, src, cfg);
        // One sequence per prompt (its first --context-size tokens), held out by fit's own rule (FitRun.heldOut on the
        // prompt id and seed), so a local fit on the same prompts and seed is evaluated on the same texts.
        List<Example> docs = new ArrayList<>(encoded.documents());
        docs.sort(java.util.Comparator.comparing(Example::id));
        List<long[]> train = new ArrayList<>(), heldOut = new ArrayList<>();
        for (Example d : docs) {
            long[] ids = java.util.Arrays.copyOf(d.tokens(), Math.min(d.tokens().length, contextSize));
            if (ids.length >= 2) {
                (FitRun.heldOut(d.id(), seed, evalFraction) ? heldOut : train).add(ids);
            }
        }
        if (train.isEmpty() || heldOut.isEmpty()) {
            throw new IllegalArgumentException(prompts + ": " + train.size() + " training and " + heldOut.size()
                    + " held-out prompts; end-to-end training needs both (more prompts, or another --eval-fraction)");
        }
        Console.info(String.format("fit-e2e: %d training and %d held-out prompts of up to %d tokens; %d dictionar%s as Spark tasks -> %s",
                train.size(), heldOut.size(), contextSize, grid.size(), grid.size() == 1 ? "y" : "ies", out));
        long start = System.nanoTime();
        List<Map<String, Object>> results = EndToEndFitJob.run(spark, grid, train, heldOut, model, modelName != null ? modelName : qualifiedModel, contextSize,
                out);
        for (Map<String, Object> r : results) {
            Console.info(String.format("fit-e2e: %s  FVU %.4f  L0 %.1f  dead %s  CE recovered %.3f  KL %.4f", r.get("name"),
                    FitCommand.num(r.get("fvu")), FitCommand.num(r.get("mean_l0")), r.get("dead_latents"),
                    FitCommand.num(r.get("ce_loss_recovered")), FitCommand.num(r.get("kl_to_clean"))));
        }
        Console.info(String.format("fit-e2e: %d dictionaries in %.1f s; results in %s/results.parquet, results.csv, report.html", results.size(),
                (System.nanoTime() - start) / 1e9, out));
        return 0;
    }
}
