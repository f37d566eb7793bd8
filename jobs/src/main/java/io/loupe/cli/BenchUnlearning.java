package io.loupe.cli;

import io.loupe.model.LanguageModel;
import io.loupe.model.ModelLoader;
import io.loupe.model.Runtime;
import io.loupe.tokenize.PromptTokenizer;
import io.loupe.unlearn.FactWorld;
import io.loupe.unlearn.metrics.ExampleScorer;
import io.loupe.unlearn.metrics.RepresentationPass;
import io.loupe.unlearn.metrics.ScoreExample;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code loupe bench unlearning}: examples scored per second per model, the work of one `unlearning score` task. */
@Command(name = "unlearning", mixinStandardHelpOptions = true,
        description = {"Scores the rows of a generated unlearning fixture (50 characters: stories, fact sentences, QA rows with paraphrased and",
                "perturbed answers) with one model, as one `unlearning score` task does: membership scores, QA losses, greedy answers",
                "(TOFU, KnowMem with 3 in-context examples) and VerbMem continuations; then the representation pass (CKA sums and probe",
                "features, one model against two comparison models). Prints examples/s of each."})
final class BenchUnlearning implements Callable<Integer> {
    @Option(names = "--model", description = "Model directory (default: models/stories260k).")
    Path model;
    @Option(names = "--characters", defaultValue = "50", description = "Characters in the fixture (default: ${DEFAULT-VALUE}).")
    int characters;
    @Option(names = "--batch-size", defaultValue = "16", description = "Sequences per forward pass (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Override
    public Integer call() throws Exception {
        Path dir = model != null ? model : Workspace.embeddedModelOrNull();
        if (dir == null) {
            throw new IllegalArgumentException("no --model and no models/stories260k in the checkout");
        }
        FactWorld.Splits s = FactWorld.generate(characters, 0.1, 0.1, 0);
        List<ScoreExample> examples = new ArrayList<>();
        for (List<Map<String, Object>> split : List.of(s.forget(), s.retain(), s.holdout())) {
            for (Map<String, Object> r : split) {
                @SuppressWarnings("unchecked")
                List<String> perturbed = (List<String>) r.get("perturbed_answers");
                examples.add(new ScoreExample((String) r.get("id"), (String) r.get("text"), (String) r.get("prompt"), (String) r.get("gt"),
                        (String) r.get("question"), (String) r.get("answer"), (String) r.get("paraphrased_answer"), perturbed, (String) r.get("value")));
            }
        }
        try (LanguageModel m = ModelLoader.load(dir, Runtime.device("auto")); PromptTokenizer tok = PromptTokenizer.load(dir, m.config())) {
            String fewShot = io.loupe.jobs.unlearn.UnlearningScoreJob.fewShot(examples.stream().filter(ScoreExample::isQa).toList(), 3);
            ExampleScorer.Options o = new ExampleScorer.Options(new double[]{0.2, 0.4}, fewShot, batchSize, 32);
            ExampleScorer.score(m, tok, examples.subList(0, Math.min(32, examples.size())), null, o);   // warm-up
            long t0 = System.nanoTime();
            ExampleScorer.score(m, tok, examples, null, o);
            double scoring = (System.nanoTime() - t0) / 1e9;
            t0 = System.nanoTime();
            RepresentationPass.run(m, m, m, tok, examples, batchSize);
            double reps = (System.nanoTime() - t0) / 1e9;
            long qa = examples.stream().filter(ScoreExample::isQa).count();
            System.out.printf("loupe unlearning score, %s, %d examples (%d QA with 4 perturbed answers each):%n", dir.getFileName(), examples.size(), qa);
            System.out.printf("  behaviour (MIA, TOFU, MUSE, greedy answers): %.1f examples/s (%.1f s)%n", examples.size() / scoring, scoring);
            System.out.printf("  representations (CKA sums, probe features): %.1f examples/s (%.1f s)%n", examples.size() / reps, reps);
        }
        return 0;
    }
}
