package io.loupe.cluster;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.loupe.cli.Loupe;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Loupe on a real Spark standalone cluster: a master and two worker JVMs on 127.0.0.1 (scripts/cluster), each worker
 * starting executor JVMs, every command submitted through scripts/submit with the shaded jar, so serialization,
 * executor-side model loading and jar shipping are exercised. Each job's output must equal the same command's output
 * in local mode (same rows and values; numbers within 1e-6). The collect and the fit sweep each lose one executor
 * JVM mid-job (SIGKILL) and must still finish exactly once, equal to a clean run. Runs in {@code mvn verify} (after
 * the shaded jar is built), on the model embedded in the repository.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {
    private static final double TOL = 1e-6;
    private static final int EXAMPLES = 256;
    private final Path work = Path.of("target/cluster-it").toAbsolutePath();
    private final String model = LocalCluster.ROOT.resolve("models/stories260k").toString();
    private LocalCluster cluster;
    private SparkSession spark;
    private Path corpus;

    @BeforeAll
    void start() throws Exception {
        LocalCluster.deleteTree(work);
        Files.createDirectories(work);
        cluster = LocalCluster.start(work.resolve("cluster"), 2);
        corpus = work.resolve("stories.jsonl");
        assertEquals(0, Loupe.execute("make-prompts", "--model", model, "--count", String.valueOf(EXAMPLES), "--tokens", "64", "--seed", "3", "--out",
                corpus.toString()));
        spark = SparkSession.builder().master("local[2,4]").appName("cluster-it").config("spark.ui.enabled", "false").getOrCreate();
    }

    @AfterAll
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Runs a command on the cluster and in local mode (2 cores, as the cluster's 2 executors of 1 core). */
    private void both(String name, String... args) throws Exception {
        cluster.run(work.resolve(name + "-cluster.log"), with(args, "--out", out(name, "cluster")));
        assertEquals(0, Loupe.execute(with(args, "--out", out(name, "local"), "--master", "local[2,4]")), name + " in local mode");
    }

    private String out(String name, String where) {
        return work.resolve(where).resolve(name).toString();
    }

    private Path outPath(String name, String where) {
        return work.resolve(where).resolve(name);
    }

    private static String[] with(String[] args, String... more) {
        List<String> all = new ArrayList<>(Arrays.asList(args));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    @Test
    @Order(1)
    void collectWithAnExecutorKilledMidChunkEqualsLocalModeExactlyOnce() throws Exception {
        String[] args = {"collect", "--input", corpus.toString(), "--model", model, "--hooks",
                "blocks.2.hook_resid_post,blocks.1.attn.hook_z,blocks.3.mlp.hook_post", "--batch-size", "2", "--chunk-size", "64", "--partitions", "4"};
        Path out = outPath("collect", "cluster"), log = work.resolve("collect-cluster.log");
        Process p = cluster.submit(log, with(args, "--out", out.toString()));
        // Kill once a later chunk's tasks are writing: a chunk committed before, task output in flight now.
        killOneExecutorWhen(p, () -> committedChunks(out) >= 1 && Files.isDirectory(out.resolve("_temporary")));
        LocalCluster.awaitSuccess(p, log);
        cluster.cleanWorkDirs();
        assertTrue(Files.readString(log).contains("Lost executor"), "the driver saw the executor go: " + log);
        assertEquals(0, Loupe.execute(with(args, "--out", out("collect", "local"), "--master", "local[2,4]")));
        SameOutput.parquet(spark, out, outPath("collect", "local"), TOL);
        JsonObject manifest = JsonParser.parseString(Files.readString(out.resolve("_loupe.json"))).getAsJsonObject();
        assertTrue(manifest.get("complete").getAsBoolean());
        assertTrue(Files.exists(out.resolve("_SUCCESS")));
        assertEquals(EXAMPLES, manifest.getAsJsonObject("counts").get("examples").getAsLong(), "every example once");
    }

    @Test
    @Order(2)
    void aSweepWithAnExecutorKilledMidwayResumesToTheCleanRunsWeights() throws Exception {
        String acts = out("collect", "cluster");
        String[] args = {"fit", "--activations", acts, "--hook", "blocks.2.hook_resid_post", "--model", model, "--width", "1024", "--k", "8,16",
                "--steps", "240", "--batch-size", "512", "--checkpoint-every", "40", "--eval-fraction", "0.25"};
        Path out = outPath("fit", "cluster"), log = work.resolve("fit-cluster.log");
        Process p = cluster.submit(log, with(args, "--out", out.toString()));
        List<String> names = List.of("blocks.2.hook_resid_post__topk_w1024_k8_lr0.001", "blocks.2.hook_resid_post__topk_w1024_k16_lr0.001");
        killOneExecutorWhen(p, () -> names.stream().allMatch(n -> Files.exists(out.resolve(n).resolve("_resume/training_state.safetensors"))));
        LocalCluster.awaitSuccess(p, log);
        cluster.cleanWorkDirs();
        assertTrue(Files.readString(log).contains("Lost executor"), "the driver saw the executor go: " + log);
        assertEquals(0, Loupe.execute(with(args, "--out", out("fit", "local"), "--master", "local[2,4]")));
        long resumed = 0;
        for (String n : names) {
            SameOutput.tensors(out.resolve(n).resolve("sae_weights.safetensors"), outPath("fit", "local").resolve(n).resolve("sae_weights.safetensors"), 0);
            SameOutput.json(out.resolve(n).resolve("metrics.json"), outPath("fit", "local").resolve(n).resolve("metrics.json"), TOL);
            JsonObject m = JsonParser.parseString(Files.readString(out.resolve(n).resolve("metrics.json"))).getAsJsonObject();
            resumed += m.has("resumed_from_step") ? m.get("resumed_from_step").getAsLong() : 0;
        }
        assertTrue(resumed > 0, "the killed executor's dictionary was resumed from its saved state, not retrained from step 0");
        SameOutput.parquet(spark, out.resolve("results.parquet"), outPath("fit", "local").resolve("results.parquet"), TOL);
    }

    @Test
    @Order(3)
    void sparsityCircuitsTrainAndUnlearningScoreOnTheClusterEqualLocalMode() throws Exception {
        both("sparsity", "sparsity", "--model", model, "--prompts", corpus.toString(), "--cett", "0.2", "--shards", "2");
        SameOutput.json(outPath("sparsity", "cluster").resolve("summary.json"), outPath("sparsity", "local").resolve("summary.json"), TOL);
        SameOutput.parquet(spark, outPath("sparsity", "cluster").resolve("layers.parquet"), outPath("sparsity", "local").resolve("layers.parquet"), TOL);

        both("circuits", "circuits", "--model", model, "--task", "induction", "--examples", "16", "--partitions", "2");
        SameOutput.json(outPath("circuits", "cluster").resolve("summary.json"), outPath("circuits", "local").resolve("summary.json"), TOL);
        SameOutput.parquet(spark, outPath("circuits", "cluster").resolve("scores.parquet"), outPath("circuits", "local").resolve("scores.parquet"), TOL);

        // One run: two runs in one local JVM share its BLAS threads, and a different split of a sum rounds differently,
        // which twelve optimizer steps amplify past 1e-6; one task per JVM on both sides computes the same sums.
        both("train", "train", "--model", model, "--corpus", corpus.toString(), "--context-size", "64", "--batch-size", "4", "--steps", "12",
                "--lr", "1e-3", "--seed", "1", "--checkpoints", "2", "--eval-fraction", "0.1");
        SameOutput.parquet(spark, outPath("train", "cluster").resolve("runs.parquet"), outPath("train", "local").resolve("runs.parquet"), TOL);
        Path trained = lastCheckpoint(outPath("train", "cluster"));
        SameOutput.tensors(trained.resolve("model.safetensors"), lastCheckpoint(outPath("train", "local")).resolve("model.safetensors"), TOL);

        String data = work.resolve("unlearning-data").toString();
        assertEquals(0, Loupe.execute("make-unlearning-data", "--model", model, "--characters", "8", "--forget-fraction", "0.15",
                "--holdout-fraction", "0.15", "--out", data));
        both("unlearning", "unlearning", "score", "--models", trained.toString(), "--target", model, "--retrain", trained.toString(),
                "--forget", data + "/forget.jsonl", "--retain", data + "/retain.jsonl", "--holdout", data + "/holdout.jsonl", "--relearn-steps", "2",
                "--concept-top", "10", "--probe-folds", "3", "--shards", "2");
        SameOutput.json(outPath("unlearning", "cluster").resolve("summary.json"), outPath("unlearning", "local").resolve("summary.json"), TOL);
        SameOutput.parquet(spark, outPath("unlearning", "cluster").resolve("examples.parquet"),
                outPath("unlearning", "local").resolve("examples.parquet"), TOL);
    }

    /** The last checkpoint of the train run with seed 1. */
    private static Path lastCheckpoint(Path trainOut) throws IOException {
        try (var s = Files.list(trainOut)) {
            Path run = s.filter(p -> Files.isDirectory(p) && p.getFileName().toString().contains("seed1")).findFirst().orElseThrow(
                    () -> new AssertionError("no seed1 run in " + trainOut));
            try (var steps = Files.list(run)) {
                return steps.filter(p -> p.getFileName().toString().startsWith("step"))
                        .max(java.util.Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().substring(4)))).orElseThrow();
            }
        }
    }

    /** Waits for {@code ready} while the job runs, then kills one executor JVM with SIGKILL, as a lost machine would. */
    private void killOneExecutorWhen(Process job, BooleanSupplier ready) throws InterruptedException {
        long deadline = System.nanoTime() + 300_000_000_000L;
        while (!ready.getAsBoolean()) {
            assertTrue(job.isAlive(), "the job ended before the executor could be killed; make it longer");
            assertTrue(System.nanoTime() < deadline, "timed out waiting to kill an executor");
            Thread.sleep(20);
        }
        List<ProcessHandle> executors = cluster.executors();
        assertEquals(2, executors.size(), "two executor JVMs: " + executors);
        assertTrue(executors.get(0).destroyForcibly(), "kill -9 the executor");
        assertTrue(job.isAlive(), "killed mid-job");
    }

    private static long committedChunks(Path out) {
        try {
            Path m = out.resolve("_loupe.json");
            return Files.exists(m) ? JsonParser.parseString(Files.readString(m)).getAsJsonObject().get("chunks_committed_this_run").getAsLong() : 0;
        } catch (IOException | RuntimeException e) {
            return 0;   // being replaced this instant
        }
    }
}
