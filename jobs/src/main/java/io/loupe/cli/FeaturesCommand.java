package io.loupe.cli;

import io.loupe.dict.FeatureStats;
import io.loupe.jobs.SparkSessions;
import io.loupe.jobs.fit.FeatureTableJob;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code loupe features}: per-latent frequency and top-k max-activating contexts of a trained dictionary. */
@Command(name = "features", mixinStandardHelpOptions = true,
        description = {"Computes a feature table for a fit checkpoint over a collect dataset, distributed over Spark partitions:",
                "one Parquet row per latent with its firing frequency and its top-k (value, example_id, position) contexts."})
final class FeaturesCommand implements Callable<Integer> {
    @Option(names = "--activations", required = true, description = "The collect output the dictionary was fitted on.")
    String activations;
    @Option(names = "--checkpoint", required = true, description = "A fit output folder (cfg.json, sae_weights.safetensors).")
    String checkpoint;
    @Option(names = "--top-k", defaultValue = "10", description = "Contexts kept per latent (default: ${DEFAULT-VALUE}).")
    int topK;
    @Option(names = "--allow-incomplete", description = "Read a collect output whose run has not finished (refused by default).")
    boolean allowIncomplete;
    @Option(names = "--master", description = "Spark master; default: spark-submit's, else " + SparkSessions.LOCAL_DEFAULT + ".")
    String master;
    @Option(names = "--out", required = true, description = "Output Parquet folder.")
    String out;

    @Override
    public Integer call() throws Exception {
        FeatureStats s = FeatureTableJob.run(SparkSessions.getOrCreate("loupe features", master), activations, allowIncomplete, checkpoint, topK, out);
        int dead = 0;
        for (int i = 0; i < s.dSae(); i++) {
            dead += s.fires(i) == 0 ? 1 : 0;
        }
        Console.info(String.format("features: %d latents over %d tokens (%d never fire) -> %s", s.dSae(), s.tokens(), dead, out));
        return 0;
    }
}
