package io.loupe.cli;

import io.loupe.collect.ValueDtype;
import io.loupe.forward.Prompt;
import io.loupe.jobs.SparkSessions;
import io.loupe.jobs.collect.CollectJob;
import io.loupe.jobs.collect.CollectOptions;
import io.loupe.jobs.fit.FitSweepJob;
import io.loupe.jobs.fit.FitTask;
import io.loupe.dict.Architecture;
import org.apache.spark.sql.SparkSession;
import io.loupe.hooks.HookKind;
import io.loupe.hooks.HookPoint;
import io.loupe.model.Generator;
import io.loupe.model.LanguageModel;
import io.loupe.model.ModelLoader;
import io.loupe.model.RandomModelWriter;
import io.loupe.model.Runtime;
import io.loupe.tensor.TensorDtype;
import io.loupe.tokenize.PromptTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code loupe demo}: the pipeline so far on the embedded default, printing where every output is. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs the pipeline on the embedded default: forward (logits + hooks to safetensors), a greedy continuation,",
                "make-prompts (a corpus sampled from the model), collect (activations to Parquet, Spark local mode) and fit (a TopK",
                "dictionary, evaluated on held-out texts), fit-e2e (end-to-end dictionaries), a 4-width sweep with fit-laws, sparsity (PPL-1%%), circuits (induction, both patching methods) and",
                "train (a short fine-tune with a checkpoint series), and unlearning (a fact fixture, target and retrain models,",
                "one unlearning method, the score), and report (every run on one HTML page).",
                "Uses the trained stories260k model in models/ (or ../shared), else a generated random model (and says which)."})
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--model", description = "Model directory (default: models/stories260k in the checkout).")
    Path model;

    @Option(names = "--prompt", defaultValue = "Once upon a time", description = "Text to continue (default: ${DEFAULT-VALUE}).")
    String prompt;

    @Option(names = "--tokens", defaultValue = "40", description = "Tokens to generate (default: ${DEFAULT-VALUE}).")
    int tokens;

    @Option(names = "--out", description = "Output folder (default: out/demo in the checkout).")
    Path out;

    @Override
    public Integer call() throws Exception {
        Path dir = out != null ? out : Workspace.out("demo");
        Files.createDirectories(dir);
        Path modelDir = chooseModel(dir);
        Path prompts = dir.resolve("prompts.jsonl");
        Files.writeString(prompts, """
                {"id": "story", "text": "Once upon a time, there was a little girl named Lily."}
                {"id": "park", "text": "Tom and Lily went to the park. Tom gave the ball to"}
                """);
        Path forwardOut = dir.resolve("forward.safetensors");
        try (LanguageModel m = ModelLoader.load(modelDir, Runtime.device("auto"))) {
            int last = m.config().numLayers() - 1;
            List<HookPoint> hooks = List.of(HookPoint.of(0, HookKind.MLP_POST), HookPoint.of(last, HookKind.RESID_POST),
                    HookPoint.of(last, HookKind.ATTN_PATTERN));
            List<Prompt> list = io.loupe.forward.PromptReader.readJsonl(prompts);
            ForwardCommand.run(m, modelDir, list, hooks, 8, 0, forwardOut);
            try (PromptTokenizer tok = PromptTokenizer.load(modelDir, m.config())) {
                long[] ids = Generator.greedy(m, tok.encode(prompt), tokens, m.config().eosTokenId());
                System.out.println();
                System.out.println("greedy continuation (" + m.device() + "):");
                System.out.println("  " + tok.decode(ids));
            }
        }
        // collect needs a corpus: sample one from the model itself (no download), then collect two hooks of it.
        Path stories = dir.resolve("stories.jsonl");
        Path activations = dir.resolve("activations");
        Path fitOut = dir.resolve("fit");
        String hook = "blocks.1.hook_resid_post";
        try (LanguageModel m = ModelLoader.load(modelDir, Runtime.device("auto"))) {
            Console.info("demo: make-prompts, 64 texts of 64 tokens sampled from the model -> " + stories);
            MakePromptsCommand.write(m, modelDir, 64, 64, 1.0, 0, 64, stories);
        }
        Console.info("demo: collect (Spark, local mode) -> " + activations);
        SparkSession spark = SparkSessions.getOrCreate("loupe demo", null);
        CollectOptions collect = new CollectOptions(stories.toString(), "json", modelDir.toString(),
                List.of(hook, "blocks.1.mlp.hook_post"), activations.toString(), ValueDtype.BFLOAT16, 8, 0, 0, 3,
                0, 50_000, "overwrite", "auto", "auto", -1, -1);
        CollectJob.Summary s = CollectJob.run(spark, collect);
        Console.info(String.format("demo: collect wrote %d rows (%d tokens x 2 hooks), %.2f bytes per bfloat16 value", s.rows(), s.tokens(),
                s.bytesPerValue()));
        Console.info("demo: fit, a TopK dictionary (width 256, k 8) on " + hook + " -> " + fitOut);
        int dIn = ModelLoader.inspect(modelDir).dModel();
        FitTask task = new FitTask(FitTask.nameOf(hook, Architecture.TOPK, 256, 8, 0, 0, 1e-3), hook, null, Architecture.TOPK, dIn, 0, 256, 8, 5,
                0.08, 1e-3, 400, 256, 0);
        Map<String, Object> r = FitSweepJob.run(spark, List.of(task), activations.toString(), ValueDtype.BFLOAT16, modelDir.toString(), 0.1,
                fitOut.toString()).get(0);
        Console.info(String.format("demo: fit: FVU %.3f, L0 %.1f, CE loss recovered %.3f on held-out texts", r.get("fvu"), r.get("mean_l0"),
                r.get("ce_loss_recovered")));

        Path lawsOut = dir.resolve("fit-sweep");
        Console.info("demo: a TopK sweep over 4 widths (Spark tasks), then fit-laws fits L(n) = a n^-b + c -> " + lawsOut);
        step(Loupe.execute("fit", "--activations", activations.toString(), "--hook", hook, "--model", modelDir.toString(), "--width",
                "32,64,128,256", "--k", "8", "--steps", "200", "--batch-size", "256", "--out", lawsOut.toString()), "fit sweep");
        step(Loupe.execute("fit-laws", "--results", lawsOut.toString()), "fit-laws");

        Path e2eOut = dir.resolve("fit-e2e");
        Console.info("demo: fit-e2e, TopK dictionaries (width 256, k 8) trained through the model on " + hook
                + ": KL to the clean output (e2e), and KL plus later layers' error (e2e+ds) -> " + e2eOut);
        step(Loupe.execute("fit-e2e", "--prompts", stories.toString(), "--model", modelDir.toString(), "--hook", hook, "--objective", "e2e,e2e+ds",
                "--width", "256", "--k", "8", "--steps", "100", "--sequences", "8", "--context-size", "64", "--out", e2eOut.toString()), "fit-e2e");

        Path sparsityOut = dir.resolve("sparsity");
        Console.info("demo: sparsity at PPL-1% over the sampled corpus -> " + sparsityOut);
        step(Loupe.execute("sparsity", "--model", modelDir.toString(), "--prompts", stories.toString(), "--ppl-p", "0.01",
                "--out", sparsityOut.toString()), "sparsity");
        Path circuitsOut = dir.resolve("circuits");
        Console.info("demo: circuits, induction, activation and attribution patching -> " + circuitsOut);
        step(Loupe.execute("circuits", "--model", modelDir.toString(), "--task", "induction", "--examples", "32", "--out",
                circuitsOut.toString()), "circuits");

        Path trainOut = dir.resolve("train");
        Console.info("demo: train, a 30-step fine-tune on the sampled corpus with 5 log-spaced checkpoints (a series sparsity fits its laws to) -> " + trainOut);
        step(Loupe.execute("train", "--model", modelDir.toString(), "--corpus", stories.toString(), "--context-size", "64", "--batch-size", "8",
                "--steps", "30", "--lr", "5e-4", "--checkpoints", "5", "--eval-fraction", "0.1", "--out", trainOut.toString()), "train");

        Path unlearning = dir.resolve("unlearning");
        String data = unlearning.resolve("data").toString(), models = unlearning.resolve("models").toString();
        Console.info("demo: unlearning, a fixture of 8 invented characters, target and retrain models, NPO with a retain term, the score -> "
                + unlearning);
        step(Loupe.execute("make-unlearning-data", "--model", modelDir.toString(), "--characters", "8", "--forget-fraction", "0.25",
                "--holdout-fraction", "0.25", "--out", data), "make-unlearning-data");
        String forget = data + "/forget.jsonl", retain = data + "/retain.jsonl";
        step(Loupe.execute("unlearn", "prepare", "--model", modelDir.toString(), "--forget", forget, "--retain", retain, "--steps", "60",
                "--batch-size", "8", "--out", models), "unlearn prepare");
        step(Loupe.execute("unlearn", "--target", models + "/target", "--forget", forget, "--retain", retain, "--method", "npo_rt", "--lr", "1e-3",
                "--steps", "10", "--batch-size", "4", "--out", unlearning.resolve("unlearned").toString()), "unlearn");
        step(Loupe.execute("unlearning", "score", "--models", unlearning.resolve("unlearned/npo_rt_lr0.001_steps10").toString(), "--target",
                models + "/target", "--retrain", models + "/retrain", "--forget", forget, "--retain", retain, "--holdout", data + "/holdout.jsonl",
                "--relearn-steps", "5", "--probe-folds", "3", "--out", unlearning.resolve("score").toString()), "unlearning score");

        Path report = dir.resolve("report.html");
        Console.info("demo: report, every run above on one page -> " + report);
        step(Loupe.execute("report", "--out", report.toString(), activations.toString(), fitOut.toString(), e2eOut.toString(), lawsOut.toString(),
                sparsityOut.toString(), circuitsOut.toString(), trainOut.toString(), unlearning.resolve("score").toString()), "report");

        System.out.println();
        System.out.println("outputs:");
        System.out.println("  model        " + modelDir);
        System.out.println("  prompts      " + prompts);
        System.out.println("  forward      " + forwardOut + "  (<id>.logits, <id>.blocks.*; safetensors.numpy.load_file)");
        System.out.println("  corpus       " + stories + "  (sampled from the model)");
        System.out.println("  activations  " + activations + "  (Parquet by hook=...; _loupe.json says how values are encoded)");
        System.out.println("  dictionary   " + fitOut + "/" + task.name() + "  (sae_weights.safetensors, cfg.json, metrics.json)");
        System.out.println("  fit-e2e      " + e2eOut + "  (end-to-end dictionaries; results.csv compares with fit's on the same held-out texts)");
        System.out.println("  fit-laws     " + lawsOut + "/scaling.json  (the latents law of the sweep; plots/scaling_*.png)");
        System.out.println("  sparsity     " + sparsityOut + "/summary.json  (per layer: nonzero fraction, threshold, activation ratio)");
        System.out.println("  circuits     " + circuitsOut + "  (scores.parquet, summary.json, plots/*.png)");
        System.out.println("  train        " + trainOut + "  (<run>/step<N> Hugging Face checkpoints, runs.parquet, summary.json, plots/loss.png)");
        System.out.println("  unlearning   " + unlearning + "/score  (leaderboard.csv, summary.json, examples.parquet, plots/*.png)");
        System.out.println("  report       " + report + "  (every run's summaries, tables and plots; each run also has its own report.html)");
        return 0;
    }

    private static void step(int exitCode, String what) {
        if (exitCode != 0) {
            throw new IllegalStateException("demo: the " + what + " step failed (exit code " + exitCode + "); its message is above");
        }
    }

    private Path chooseModel(Path dir) throws java.io.IOException {
        if (model != null) {
            Console.info("demo: using the model given, " + model);
            return model;
        }
        Path embedded = Workspace.embeddedModelOrNull();
        if (embedded != null) {
            Console.info("demo: using the trained stories260k model shipped in the repository, " + embedded);
            return embedded;
        }
        Path shared = Workspace.sharedOrNull();
        if (shared != null) {
            Path stories = shared.resolve("models/stories260k");
            Console.info("demo: using the trained stories260k model from " + stories);
            return stories;
        }
        Path random = dir.resolve("random-model");
        Console.info("demo: models/stories260k and ../shared not found; generating a random model (its text is noise) at " + random);
        new RandomModelWriter(4, 64, 8, 4, 172, 512, 0, true, false, TensorDtype.F32, 1).write(random);
        return random;
    }
}
