package io.loupe.cli;

import io.loupe.bench.ForwardBenchmark;
import io.loupe.bench.OpProfile;
import io.loupe.model.InferenceWorkers;
import io.loupe.model.LanguageModel;
import io.loupe.model.ModelLoader;
import io.loupe.model.NativeMemory;
import io.loupe.model.Runtime;
import io.loupe.tensor.ConstantPages;
import io.loupe.tensor.MklDispatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code loupe bench <what>}: performance figures, each beside the ceiling or peer it is judged against. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks; see each subcommand.",
        subcommands = {BenchCommand.Forward.class, BenchCollect.class, BenchFit.class, BenchTrain.class, BenchCircuits.class, BenchUnlearning.class, BenchGpu.class})
final class BenchCommand implements Runnable {
    /**
     * What every figure depends on, printed before any: the malloc settings ({@link NativeMemory}) and the kernels MKL
     * runs ({@link MklDispatch}, with the branch MKL reports).
     */
    static void announceNativeSettings() {
        Console.info("bench: " + NativeMemory.tune());
        Runtime.engine();
        Console.info("bench: " + MklDispatch.report());
        Console.info("bench: " + ConstantPages.keepMapped());
    }

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "forward", mixinStandardHelpOptions = true,
            description = {"Forward tokens/s and GFLOP/s for stories260k (if ../shared is present), a random 25M Llama (d=512, 8 layers,",
                    "d_mlp=1376, 8 heads) and a random GPT-2-small-shaped model (12 layers, d 768, vocab 50257), beside the measured fp32",
                    "matmul ceiling of this machine and the time of each model's own linear products run alone."})
    static final class Forward implements Callable<Integer> {
        @Option(names = "--batch", defaultValue = "8", description = "Sequences per pass (default: ${DEFAULT-VALUE}).")
        int batch;
        @Option(names = "--seq", defaultValue = "256", description = "Tokens per sequence (default: ${DEFAULT-VALUE}).")
        int seq;
        @Option(names = "--repeats", defaultValue = "5", description = "Timed passes after the warm-up, each just after a 2048x2048 matmul timing; the best pass is reported, and the median share of the ceiling paired with each.")
        int repeats;
        @Option(names = "--warmup", defaultValue = "4", description = {"Untimed passes (or side-by-side runs) before the timed ones (default: ${DEFAULT-VALUE}):",
                "a process's first passes run slower while the JIT compiles and the allocator's heaps grow."})
        int warmup;
        @Option(names = "--device", defaultValue = "auto", description = "cpu, gpu, gpu:N or auto (default: ${DEFAULT-VALUE}).")
        String device;
        @Option(names = "--model", description = "Also benchmark this model directory.")
        Path extra;
        @Option(names = "--skip-gpt2", description = "Leave out the GPT-2-small-shaped model (124M parameters, the slowest).")
        boolean skipGpt2;
        @Option(names = "--workers", defaultValue = "0", description = {"Also time this many passes side by side, as `forward` runs",
                "batches; 0 = as `forward` picks (one per libtorch thread on a CPU, one on a GPU); 1 = one pass at a time only."})
        int workers;
        @Option(names = "--profile", paramLabel = "DIR", description = {"Also run 3 passes of each model, one at a time, under libtorch's profiler:",
                "DIR/<model>.trace.json (chrome://tracing, ui.perfetto.dev) and a table of the time per top-level operator."})
        Path profile;

        /** One model's pass(es) side by side, and the seconds its linear products take run alone at the pass's shapes. */
        private record Row(ForwardBenchmark.Result pass, int workers, double linearSeconds) {
        }

        @Override
        public Integer call() throws Exception {
            if (workers < 0) {
                throw new IllegalArgumentException("--workers must be >= 0 (0: as forward picks), got " + workers);
            }
            if (repeats < 1) {
                throw new IllegalArgumentException("--repeats must be >= 1, got " + repeats);
            }
            if (warmup < 0) {
                throw new IllegalArgumentException("--warmup must be >= 0, got " + warmup);
            }
            if (profile != null && java.nio.file.Files.exists(profile) && !java.nio.file.Files.isDirectory(profile)) {
                throw new IllegalArgumentException("--profile must name a directory; " + profile + " is a file");
            }
            announceNativeSettings();
            List<Row> results = new ArrayList<>();
            double ceiling = ceiling();
            Path shared = Workspace.sharedOrNull();
            if (shared != null) {
                results.addAll(measure("stories260k", shared.resolve("models/stories260k")));
            } else {
                Console.info("bench: ../shared not found; skipping stories260k");
            }
            results.addAll(measure("random-25m", Workspace.benchModel25m()));
            if (!skipGpt2) {
                results.addAll(measure("gpt2-small", Workspace.benchModelGpt2Small()));
            }
            if (extra != null) {
                results.addAll(measure(extra.getFileName().toString(), extra));
            }
            // The ceiling is the best matmul rate seen before or after the models: a conservative denominator on noisy hosts.
            ceiling = Math.max(ceiling, ceiling());
            System.out.printf("%nfp32 matmul 2048x2048 ceiling: %.1f GFLOP/s (%s)%n", ceiling, Runtime.device(device));
            System.out.printf("%-14s %9s %8s %12s %10s %10s %9s %8s %11s %9s%n", "model", "batch", "workers", "tokens/s", "s/batch", "GFLOP/s",
                    "ceiling", "paired", "linears s", "linears");
            for (Row row : results) {
                ForwardBenchmark.Result r = row.pass();
                System.out.printf("%-14s %4d x %-4d %8d %12.0f %10.3f %10.1f %8.0f%% %7.0f%% %11.3f %8.0f%%%n", r.name(), r.batch(), r.seq(),
                        row.workers(), r.tokensPerSecond(), r.secondsPerBatch(), r.gflops(), 100 * r.gflops() / ceiling,
                        100 * r.pairedShare(), row.linearSeconds(), 100 * row.linearSeconds() / r.secondsPerBatch());
            }
            System.out.println("workers: passes run side by side, each on its share of the threads, as `forward` runs batches (s/batch is"
                    + " the wall time over workers); ceiling: the best pass's rate as a share of the best 2048x2048 rate; paired: the median"
                    + " over passes of each pass's rate against the 2048x2048 rate measured just before it; linears: the pass's own linear products"
                    + " run alone at its shapes (best of 3 each, all threads), and their share of the time per batch");
            return 0;
        }

        private double ceiling() {
            try (var m = Runtime.newManager(Runtime.device(device))) {
                return ForwardBenchmark.matmulGflops(m, 2048, ForwardBenchmark.CEILING_REPEATS);
            }
        }

        private static final int PROFILED_PASSES = 3;

        /** The operators that take the most time per pass, the rest summed. */
        private void printProfile(String name, List<OpProfile.OpTime> ops) {
            double total = ops.stream().mapToDouble(OpProfile.OpTime::millis).sum();
            System.out.printf("%nprofile of %s, %d passes of %d x %d, one at a time (%s): %.1f ms of operators per pass%n", name,
                    PROFILED_PASSES, batch, seq, profile.resolve(name + ".trace.json"), total / PROFILED_PASSES);
            System.out.printf("  %-28s %10s %7s %10s %12s%n", "operator", "ms/pass", "share", "calls/pass", "median ms");
            int shown = Math.min(12, ops.size());
            for (OpProfile.OpTime op : ops.subList(0, shown)) {
                System.out.printf("  %-28s %10.1f %6.1f%% %10.0f %12.3f%n", op.op(), op.millis() / PROFILED_PASSES, 100 * op.millis() / total,
                        (double) op.calls() / PROFILED_PASSES, op.medianMillis());
            }
            double rest = ops.subList(shown, ops.size()).stream().mapToDouble(OpProfile.OpTime::millis).sum();
            if (rest > 0) {
                System.out.printf("  %-28s %10.1f %6.1f%%%n", "(" + (ops.size() - shown) + " others)", rest / PROFILED_PASSES, 100 * rest / total);
            }
        }

        /** One pass at a time, then (unless that is what forward does here) passes side by side. */
        private List<Row> measure(String name, Path dir) throws java.io.IOException {
            try (LanguageModel model = ModelLoader.load(dir, Runtime.device(device))) {
                int side = InferenceWorkers.resolve(workers, model.manager().getDevice(), Integer.MAX_VALUE);
                Console.info("bench: " + name + " " + batch + " x " + seq + ", " + warmup + " warm-up and " + repeats + " timed passes"
                        + (side > 1 ? ", then " + repeats + " timings of " + side + " side by side" : ""));
                double linears = ForwardBenchmark.linearSeconds(model.manager(), model.config(), (long) batch * seq, 3);
                List<Row> rows = new ArrayList<>();
                rows.add(new Row(ForwardBenchmark.forward(name, model, batch, seq, warmup, repeats, 0, 1), 1, linears));
                if (side > 1) {
                    rows.add(new Row(ForwardBenchmark.forward(name, model, batch, seq, warmup, repeats, 0, side), side, linears));
                }
                if (profile != null) {
                    printProfile(name, ForwardBenchmark.profile(model, batch, seq, 0, PROFILED_PASSES, profile.resolve(name + ".trace.json")));
                }
                return rows;
            }
        }
    }
}
