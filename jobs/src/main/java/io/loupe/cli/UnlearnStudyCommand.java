package io.loupe.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code loupe unlearn study}: the whole unlearning study in one command (what {@code conf/unlearn.conf} runs): the
 * fixture, the target and retrain models, the method grid, and the score with its leaderboard. Each step is the
 * ordinary command with the options shown, so any step can be re-run alone.
 */
@Command(name = "study", mixinStandardHelpOptions = true,
        description = {"Runs the unlearning study end to end: make-unlearning-data -> unlearn prepare -> unlearn (the method grid) ->",
                "unlearning score. Outputs: OUT/data, OUT/models (target, retrain), OUT/unlearned/<run>, OUT/score (leaderboard.csv).",
                "Options can come from @conf/unlearn.conf."})
final class UnlearnStudyCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "The base model.")
    String model;
    @Option(names = "--characters", defaultValue = "50", description = "Characters in the fixture (default: ${DEFAULT-VALUE}).")
    int characters;
    @Option(names = "--forget-fraction", defaultValue = "0.1", description = "Share of characters to forget (default: ${DEFAULT-VALUE}).")
    double forgetFraction;
    @Option(names = "--prepare-steps", defaultValue = "600", description = "Fine-tuning steps of target and retrain (default: ${DEFAULT-VALUE}).")
    int prepareSteps;
    @Option(names = "--prepare-lr", defaultValue = "3e-3", description = "Their learning rate (default: ${DEFAULT-VALUE}).")
    double prepareLr;
    @Option(names = "--method", defaultValue = "ga,graddiff,kl,npo,npo_rt,rmu", description = "Methods (default: ${DEFAULT-VALUE}).")
    String methods;
    @Option(names = "--lr", defaultValue = "1e-4", description = "Unlearning learning rate(s) (default: ${DEFAULT-VALUE}).")
    String lrs;
    @Option(names = "--steps", defaultValue = "50", description = "Unlearning steps (default: ${DEFAULT-VALUE}).")
    String steps;
    @Option(names = "--extra", split = "\\s+", description = "Further `unlearn` options, e.g. --extra \"--alpha 2 --beta 0.2\".")
    List<String> extra;
    @Option(names = "--score-extra", split = "\\s+", description = "Further `unlearning score` options, e.g. --score-extra \"--concept-top 20\".")
    List<String> scoreExtra;
    @Option(names = "--seed", defaultValue = "0", description = "Seed of the fixture and the runs (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--out", required = true, description = "Output folder of the study.")
    String out;

    @Override
    public Integer call() {
        String data = out + "/data", models = out + "/models", unlearned = out + "/unlearned", score = out + "/score";
        step("make-unlearning-data", "--model", model, "--characters", String.valueOf(characters), "--forget-fraction", String.valueOf(forgetFraction),
                "--seed", String.valueOf(seed), "--out", data);
        step("unlearn", "prepare", "--model", model, "--forget", data + "/forget.jsonl", "--retain", data + "/retain.jsonl", "--steps",
                String.valueOf(prepareSteps), "--lr", String.valueOf(prepareLr), "--seed", String.valueOf(seed), "--out", models);
        List<String> grid = new ArrayList<>(List.of("unlearn", "--target", models + "/target", "--forget", data + "/forget.jsonl", "--retain",
                data + "/retain.jsonl", "--method", methods, "--lr", lrs, "--steps", steps, "--seed", String.valueOf(seed), "--out", unlearned));
        if (extra != null) {
            grid.addAll(extra);
        }
        step(grid.toArray(String[]::new));
        List<String> runs = new ArrayList<>();
        for (String m : methods.split(",")) {
            for (String lr : lrs.split(",")) {
                for (String st : steps.split(",")) {
                    runs.add(unlearned + "/" + m.trim() + "_lr" + Double.parseDouble(lr) + "_steps" + Integer.parseInt(st.trim()));
                }
            }
        }
        List<String> sc = new ArrayList<>(List.of("unlearning", "score", "--models", String.join(",", runs), "--target", models + "/target",
                "--retrain", models + "/retrain", "--forget", data + "/forget.jsonl", "--retain", data + "/retain.jsonl", "--holdout",
                data + "/holdout.jsonl", "--out", score));
        if (scoreExtra != null) {
            sc.addAll(scoreExtra);
        }
        step(sc.toArray(String[]::new));
        Console.info("unlearn study: leaderboard at " + score + "/leaderboard.csv, plots in " + score + "/plots");
        return 0;
    }

    private static void step(String... args) {
        Console.info("unlearn study: loupe " + String.join(" ", args));
        int code = Loupe.execute(args);
        if (code != 0) {
            throw new IllegalStateException("the step `loupe " + args[0] + (args.length > 1 && !args[1].startsWith("-") ? " " + args[1] : "")
                    + "` failed (exit " + code + "); its message is above");
        }
    }
}
