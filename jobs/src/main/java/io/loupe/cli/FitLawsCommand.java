package io.loupe.cli;

import io.loupe.jobs.SparkSessions;
import io.loupe.jobs.fit.FitLawsJob;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code loupe fit-laws}: SAE scaling laws from a fit sweep's results. */
@Command(name = "fit-laws", mixinStandardHelpOptions = true,
        description = {"Fits the SAE scaling laws of Gao et al. 2024 to a TopK/BatchTopK sweep's held-out FVU (the best learning rate",
                "at each width n and k): L(n) = a n^-b + c for every k with 4+ widths, and the joint",
                "L(n, k) = exp(alpha + beta_k ln k + beta_n ln n + gamma ln k ln n) + exp(zeta + eta ln k), with standard errors.",
                "Writes <out>/scaling.json and <out>/plots/scaling_<hook>_<architecture>.png."})
final class FitLawsCommand implements Callable<Integer> {
    @Option(names = "--results", required = true, description = "A fit sweep's --out folder (with results.parquet), any Hadoop URI.")
    String results;
    @Option(names = "--out", description = "Where scaling.json and plots/ go (default: the --results folder).")
    String out;
    @Option(names = "--master", description = "Spark master; default: spark-submit's, else " + SparkSessions.LOCAL_DEFAULT + ".")
    String master;

    @Override
    public Integer call() throws Exception {
        String dst = out != null ? out : results;
        Map<String, Object> json = FitLawsJob.run(SparkSessions.getOrCreate("loupe fit-laws", master), results, dst);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> groups = (List<Map<String, Object>>) json.get("groups");
        for (Map<String, Object> g : groups) {
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> perK = (List<Map<String, Object>>) g.get("latents");
            for (Map<String, Object> k : perK) {
                Console.info(String.format("fit-laws: %s %s k=%s: L(n) = a n^-b + c with %s", g.get("hook"), g.get("architecture"), k.get("k"),
                        k.get("params")));
            }
            if (g.get("joint") != null) {
                Console.info(String.format("fit-laws: %s %s joint: %s", g.get("hook"), g.get("architecture"),
                        ((Map<?, ?>) g.get("joint")).get("params")));
            }
        }
        @SuppressWarnings("unchecked")
        List<String> skipped = (List<String>) json.get("skipped");
        skipped.forEach(s -> Console.info("fit-laws: skipped " + s));
        Console.info("fit-laws: wrote " + dst + "/scaling.json and plots/");
        return 0;
    }
}
