package io.loupe.cli;

import io.loupe.collect.ValueDtype;
import io.loupe.jobs.SparkSessions;
import io.loupe.jobs.collect.CollectJob;
import io.loupe.jobs.collect.CollectOptions;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;

/** {@code loupe bench collect}: collect throughput and on-disk cost, with the time split against its targets. */
@Command(name = "collect", mixinStandardHelpOptions = true,
        description = {"Collects two hooks of the random 25M model (d=512, 8 layers, d_mlp=1376) over random 256-token prompts",
                "in float32 and bfloat16; prints tokens/s, MB/s, bytes per stored value and the share of time outside forward passes."})
final class BenchCollect implements Callable<Integer> {
    @Option(names = "--examples", defaultValue = "64", description = "Prompts of 256 tokens (default: ${DEFAULT-VALUE}).")
    int examples;
    @Option(names = "--master", defaultValue = "local[2]", description = "Spark master (default: ${DEFAULT-VALUE}).")
    String master;
    @Option(names = "--compression", defaultValue = "auto", description = "Parquet codec (default: ${DEFAULT-VALUE}).")
    String compression;
    @Option(names = "--dtypes", defaultValue = "float32,bfloat16", split = ",", description = "Dtypes to run (default: ${DEFAULT-VALUE}).")
    List<String> dtypes;
    @Option(names = "--hooks", defaultValue = "blocks.3.hook_resid_post,blocks.5.mlp.hook_post", description = "Hooks (default: ${DEFAULT-VALUE}).")
    String hooks;

    /** {@code examples} prompts of BOS and 255 random tokens of the 512-token vocabulary (ids 3..511), seeded. */
    static void writeRandomPrompts(Path file, int examples) throws java.io.IOException {
        StringBuilder sb = new StringBuilder();
        Random rnd = new Random(0);
        for (int i = 0; i < examples; i++) {
            sb.append("{\"id\": \"r").append(i).append("\", \"token_ids\": [1");
            for (int t = 1; t < 256; t++) {
                sb.append(", ").append(3 + rnd.nextInt(509));
            }
            sb.append("]}\n");
        }
        Files.writeString(file, sb);
    }

    @Override
    public Integer call() throws Exception {
        Path dir = Workspace.out("bench");
        Path model = Workspace.benchModel25m();
        Path prompts = dir.resolve("collect-prompts-" + examples + ".jsonl");
        writeRandomPrompts(prompts, examples);
        SparkSession spark = SparkSessions.getOrCreate("loupe bench collect", master);
        // Warm-up: loads the model into this JVM and compiles the hot paths, so the figures below are steady state.
        CollectJob.run(spark, new CollectOptions(prompts.toString(), "json", model.toString(), List.of(hooks.split(",")),
                dir.resolve("collect-warmup").toString(), ValueDtype.FLOAT32, 8, 32, 0, 0, 0, 1_000_000, "overwrite", "cpu", "snappy", -1, -1));
        System.out.printf("%-9s %9s %9s %8s %12s %12s %14s%n", "dtype", "tokens/s", "MB/s", "B/value", "forward s", "other s", "other/forward");
        for (ValueDtype d : dtypes.stream().map(ValueDtype::parse).toList()) {
            CollectOptions o = new CollectOptions(prompts.toString(), "json", model.toString(), List.of(hooks.split(",")),
                    dir.resolve("collect-" + d.label()).toString(), d, 8, 256, 0, 0, 0, 1_000_000, "overwrite", "cpu", compression, -1, -1);
            CollectJob.Summary s = CollectJob.run(spark, o);
            double other = s.taskSeconds() - s.forwardSeconds();
            System.out.printf("%-9s %9.0f %9.1f %8.2f %12.1f %12.1f %13.0f%%%n", d.label(), s.tokens() / s.seconds(), s.bytes() / 1e6 / s.seconds(),
                    s.bytesPerValue(), s.forwardSeconds(), other, 100 * other / s.forwardSeconds());
        }
        System.out.println("targets: other/forward <= 15%; bytes per value <= 4.2 (float32), <= 2.1 (bfloat16)."
                + " 'other' = task time outside forward passes: tokenising, encoding, Parquet writing.");
        return 0;
    }
}
