package io.loupe.cli;

import ai.djl.Device;
import io.loupe.bench.DeviceAgreement;
import io.loupe.collect.ValueDtype;
import io.loupe.jobs.SparkSessions;
import io.loupe.jobs.collect.CollectJob;
import io.loupe.jobs.collect.CollectOptions;
import io.loupe.model.Runtime;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code loupe bench gpu} (what {@code scripts/gpu-check} runs): forward, collect and a few training steps on a CUDA
 * device against the CPU, each within a relative tolerance, with tokens/s on both. {@code --device cpu} runs the same
 * comparison CPU against CPU, a check of the check on machines without a GPU.
 */
@Command(name = "gpu", mixinStandardHelpOptions = true,
        description = {"GPU readiness: the embedded stories260k and the random 25M model forward (logits and every hook), collect",
                "(Parquet values) and 8 training steps (losses) on --device against the CPU, within --tolerance (relative to each",
                "tensor's scale), with tokens/s on both. Exit 1 if any check fails. Dictionary fitting trains on the CPU only (not",
                "checked here)."})
final class BenchGpu implements Callable<Integer> {
    @Option(names = "--device", defaultValue = "gpu", description = "The device to check against the CPU (default: ${DEFAULT-VALUE}).")
    String device;
    @Option(names = "--tolerance", defaultValue = "1e-3", description = "Largest relative error accepted (default: ${DEFAULT-VALUE}).")
    double tolerance;

    @Override
    public Integer call() throws Exception {
        Device other = Runtime.device(device);   // refuses, saying how to supply a CUDA libtorch, when none is visible
        Path stories = Workspace.embeddedModelOrNull();
        if (stories == null) {
            throw new IllegalStateException("models/stories260k not found in " + Workspace.home());
        }
        Path m25 = Workspace.benchModel25m();
        List<DeviceAgreement.Check> checks = new ArrayList<>();
        checks.add(DeviceAgreement.forward(stories, other, 8, 256));
        checks.add(DeviceAgreement.forward(m25, other, 8, 256));
        checks.add(collect(m25, device));
        checks.add(DeviceAgreement.train(stories, other, 8, 128, 8));
        checks.add(DeviceAgreement.train(m25, other, 8, 256, 8));

        System.out.printf("%n%s against cpu, tolerance %.0e (relative to each tensor's largest value)%n", device, tolerance);
        System.out.printf("%-34s %12s  %-28s %12s %12s%n", "check", "max rel err", "worst at", "cpu tok/s", device + " tok/s");
        boolean ok = true;
        for (DeviceAgreement.Check c : checks) {
            boolean pass = c.maxRelError() <= tolerance;
            ok &= pass;
            System.out.printf("%-34s %12.2e  %-28s %12.0f %12.0f  %s%n", c.what(), c.maxRelError(), c.worst(), c.cpuTokensPerSecond(),
                    c.otherTokensPerSecond(), pass ? "ok" : "FAIL");
        }
        return ok ? 0 : 1;
    }

    /** The collect job in local mode on each device: the float32 values of every row compared. */
    private static DeviceAgreement.Check collect(Path model, String other) throws Exception {
        Path dir = Workspace.out("bench");
        Path prompts = dir.resolve("gpu-check-prompts.jsonl");
        BenchCollect.writeRandomPrompts(prompts, 32);
        SparkSession spark = SparkSessions.getOrCreate("loupe bench gpu", "local[1]");
        List<String> hooks = List.of("blocks.3.hook_resid_post", "blocks.5.mlp.hook_post");
        double[] rates = new double[2];
        List<Map<String, float[]>> values = new ArrayList<>();
        String[] devices = {"cpu", other};
        for (int d = 0; d < 2; d++) {
            String out = dir.resolve("gpu-check-collect-" + d).toString();
            CollectJob.Summary s = CollectJob.run(spark, new CollectOptions(prompts.toString(), "json", model.toString(), hooks, out,
                    ValueDtype.FLOAT32, 8, 256, 0, 0, 1, 1_000_000, "overwrite", devices[d], "snappy", -1, -1));
            rates[d] = s.tokens() / s.forwardSeconds();
            Map<String, float[]> rows = new HashMap<>();
            for (Row r : spark.read().parquet(out).select("hook", "example_id", "position", "values").collectAsList()) {
                ByteBuffer b = ByteBuffer.wrap((byte[]) r.get(3)).order(ByteOrder.LITTLE_ENDIAN);
                float[] v = new float[b.remaining() / 4];
                b.asFloatBuffer().get(v);
                rows.put(r.get(0) + "/" + r.get(1) + "/" + r.get(2), v);
            }
            values.add(rows);
        }
        if (!values.get(0).keySet().equals(values.get(1).keySet())) {
            return new DeviceAgreement.Check("collect random-25m", Double.NaN, "different rows", rates[0], rates[1]);
        }
        Map<String, double[]> perHook = new HashMap<>();   // hook -> {max diff, max |value|}
        values.get(0).forEach((key, a) -> {
            float[] b = values.get(1).get(key);
            double[] acc = perHook.computeIfAbsent(key.substring(0, key.indexOf('/')), k -> new double[2]);
            for (int i = 0; i < a.length; i++) {
                acc[0] = Math.max(acc[0], Math.abs((double) a[i] - b[i]));
                acc[1] = Math.max(acc[1], Math.abs(a[i]));
            }
        });
        double worst = 0;
        String where = "";
        for (var e : perHook.entrySet()) {
            double rel = e.getValue()[0] / Math.max(e.getValue()[1], 1e-12);
            if (rel > worst || where.isEmpty()) {
                worst = rel;
                where = e.getKey();
            }
        }
        return new DeviceAgreement.Check("collect random-25m (forward tok/s)", worst, where, rates[0], rates[1]);
    }
}
