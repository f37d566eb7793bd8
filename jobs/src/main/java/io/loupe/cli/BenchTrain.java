package io.loupe.cli;

import io.loupe.bench.ForwardBenchmark;
import io.loupe.bench.TrainBenchmark;
import io.loupe.model.Runtime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code loupe bench train}: language-model training throughput in the shape of ../shared/peers/peer_train.py. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Trains the 25M Llama shape (d 512, 8 layers, d_mlp 1376, vocab 512, untied) on random tokens at batch 8 x 256 with",
                "AdamW and clipping, as peer_train.py does; prints tokens/s, model GFLOP/s (6 x linear params x tokens + attention)",
                "and the share of the fp32 matmul ceiling measured in the same process."})
final class BenchTrain implements Callable<Integer> {
    @Option(names = "--steps", defaultValue = "5", description = "Timed steps after 2 warm-up steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Override
    public Integer call() {
        if (steps < 1) {
            throw new IllegalArgumentException("--steps must be >= 1, got " + steps);
        }
        BenchCommand.announceNativeSettings();
        double ceiling;
        try (var m = Runtime.newManager(ai.djl.Device.cpu())) {
            ceiling = ForwardBenchmark.matmulGflops(m, 2048, ForwardBenchmark.CEILING_REPEATS);
        }
        TrainBenchmark.Result r = TrainBenchmark.run(TrainBenchmark.shape25m(), 8, 256, 2, steps);
        try (var m = Runtime.newManager(ai.djl.Device.cpu())) {
            ceiling = Math.max(ceiling, ForwardBenchmark.matmulGflops(m, 2048, ForwardBenchmark.CEILING_REPEATS));
        }
        System.out.printf("loupe llama 25M training: %.0f tokens/s, %.1f GFLOP/s, %.0f%% of the %.1f GFLOP/s matmul ceiling%n", r.tokensPerSecond(),
                r.gflops(), 100 * r.gflops() / ceiling, ceiling);
        return 0;
    }
}
