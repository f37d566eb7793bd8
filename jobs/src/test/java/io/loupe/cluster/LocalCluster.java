package io.loupe.cluster;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A Spark standalone cluster on 127.0.0.1 started by {@code scripts/cluster} (a master JVM, worker JVMs, executor JVMs
 * per application), and Loupe commands submitted to it through {@code scripts/submit} with the shaded jar.
 */
final class LocalCluster implements AutoCloseable {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private final Path dir;
    private final String url;

    private LocalCluster(Path dir, String url) {
        this.dir = dir;
        this.url = url;
    }

    /** Starts a master and {@code workers} workers of one core each under {@code dir}. */
    static LocalCluster start(Path dir, int workers) throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Process p = command(dir, dir.resolve("start.log"), List.of(ROOT.resolve("scripts/cluster").toString(), "start", "--workers",
                String.valueOf(workers), "--memory", "3g", "--port", String.valueOf(port)));
        if (!p.waitFor(3, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException("scripts/cluster start failed:\n" + Files.readString(dir.resolve("start.log")));
        }
        return new LocalCluster(dir, "spark://127.0.0.1:" + port);
    }

    String url() {
        return url;
    }

    /** Starts {@code scripts/submit --master <this cluster> -- <loupe args>}, its output to {@code log}. */
    Process submit(Path log, String... loupeArgs) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(ROOT.resolve("scripts/submit").toString(), "--master", url, "--driver-memory", "1g",
                "--executor-memory", "2g", "--conf", "spark.ui.enabled=false", "--"));
        cmd.addAll(List.of(loupeArgs));
        return command(dir, log, cmd);
    }

    /** Runs a submitted command to its end and fails with its log's tail unless it exits 0. */
    void run(Path log, String... loupeArgs) throws IOException, InterruptedException {
        awaitSuccess(submit(log, loupeArgs), log);
        cleanWorkDirs();
    }

    static void awaitSuccess(Process p, Path log) throws IOException, InterruptedException {
        if (!p.waitFor(8, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + log);
        }
        if (p.exitValue() != 0) {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            throw new AssertionError("exit " + p.exitValue() + ", " + log + " ends:\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 40),
                    lines.size())));
        }
    }

    /** The executor JVMs running now (CoarseGrainedExecutorBackend processes under this cluster's workers). */
    List<ProcessHandle> executors() {
        List<ProcessHandle> out = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(h -> {
            Optional<String> line = h.info().commandLine();
            if (line.isPresent() && line.get().contains("CoarseGrainedExecutorBackend") && line.get().contains("127.0.0.1")
                    && h.parent().flatMap(ph -> ph.info().commandLine()).map(c -> c.contains("deploy.worker.Worker")).orElse(false)
                    && h.parent().flatMap(ph -> ph.info().commandLine()).map(c -> c.contains(url)).orElse(false)) {
                out.add(h);
            }
        });
        return out;
    }

    /** Each application leaves a copy of the 140 MB jar per executor in the workers' work folders. */
    void cleanWorkDirs() throws IOException {
        Path work = dir.resolve("work");
        if (Files.isDirectory(work)) {
            try (var s = Files.walk(work, 2)) {
                for (Path app : s.filter(p -> p.getFileName().toString().startsWith("app-")).toList()) {
                    deleteTree(app);
                }
            }
        }
    }

    /** Deletes a folder and everything in it, if it exists. */
    static void deleteTree(Path p) throws IOException {
        if (Files.exists(p)) {
            try (var w = Files.walk(p)) {
                w.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        Process p = command(dir, dir.resolve("stop.log"), List.of(ROOT.resolve("scripts/cluster").toString(), "stop"));
        p.waitFor(1, TimeUnit.MINUTES);
        cleanWorkDirs();
    }

    private static Process command(Path clusterDir, Path log, List<String> cmd) throws IOException {
        Files.createDirectories(clusterDir);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("LOUPE_CLUSTER_DIR", clusterDir.toString());
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");   // the driver binds where the cluster does
        return pb.start();
    }
}
