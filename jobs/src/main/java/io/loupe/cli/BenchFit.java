package io.loupe.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.loupe.bench.ForwardBenchmark;
import io.loupe.dict.Architecture;
import io.loupe.dict.InMemorySource;
import io.loupe.dict.SaeConfig;
import io.loupe.dict.SaeTrainer;
import io.loupe.dict.ShuffleBufferSource;
import io.loupe.model.Runtime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code loupe bench fit}: dictionary training throughput per architecture, in the shape of ../shared/peers/peer_sae.py. */
@Command(name = "fit", mixinStandardHelpOptions = true,
        description = {"Trains each architecture's dictionary (d_in 512, d_sae 8192, k 32, batch 4096, Adam) on random rows, as",
                "peer_sae.py does; prints tokens/s, dense-equivalent GFLOP/s (the peer's count) and the share of the matmul ceiling",
                "(top-k codes wide enough to train sparsely: of the encoder-bound limit) per architecture, then TopK streamed through",
                "a shuffle buffer with its data-wait share."})
final class BenchFit implements Callable<Integer> {
    @Option(names = "--steps", defaultValue = "10", description = "Timed steps after 2 warm-up steps (default: ${DEFAULT-VALUE}).")
    int steps;
    @Option(names = "--d-sae", defaultValue = "8192", description = "Dictionary width (default: ${DEFAULT-VALUE}).")
    int dSae;
    @Option(names = "--architecture", defaultValue = "topk,batchtopk,matryoshka,relu,gated,jumprelu", split = ",",
            description = "Architectures to time; TopK first (default: ${DEFAULT-VALUE}).")
    java.util.List<String> architectures;

    @Override
    public Integer call() {
        int dIn = 512, k = 32, batch = 4096;
        BenchCommand.announceNativeSettings();
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            double ceiling = ForwardBenchmark.matmulGflops(m, 2048, ForwardBenchmark.CEILING_REPEATS);
            double encoderAlone = encoderTokensPerSecond(m, batch, dIn, dSae);
            Runtime.engine().setRandomSeed(0);
            NDArray rows = m.randomNormal(0, 1, new Shape(batch * 4L, dIn), DataType.FLOAT32);
            SaeConfig warm = SaeConfig.defaults(Architecture.TOPK, dIn, dSae, k).withTraining(1e-4, 2, batch, 0, 0);
            SaeTrainer.train(warm, new InMemorySource(rows, 0), rows.get(":1024"), m, 1000, l -> { }).sae().close();
            double flops = (double) steps * batch * dIn * dSae * 2 * 3 * 2;   // enc + dec, forward + 2x backward: the peer's count
            SaeConfig cfg = SaeConfig.defaults(Architecture.TOPK, dIn, dSae, k).withTraining(1e-4, steps, batch, 0, 0);
            for (String name : architectures) {
                Architecture a = Architecture.parse(name);
                SaeConfig run = SaeConfig.defaults(a, dIn, dSae, k).withTraining(1e-4, steps, batch, 0, 0);
                SaeTrainer.Result r = SaeTrainer.train(run, new InMemorySource(rows, 1), rows.get(":1024"), m, 1000, l -> { });
                r.sae().close();
                double gflops = flops / r.seconds() / 1e9;
                // Top-k codes wide enough to train sparsely: their one dense product, the encoder's, bounds them;
                // the others do the dense work the peer's count assumes.
                String bound = run.trainsSparsely()
                        ? String.format("%.0f%% of the encoder-bound %.0f tokens/s (the step's one dense product, %d x %d x %d, timed alone)",
                                100 * r.tokensPerSecond() / encoderAlone, encoderAlone, batch, dIn, dSae)
                        : String.format("%.0f%% of the %.1f GFLOP/s matmul ceiling", 100 * gflops / ceiling, ceiling);
                System.out.printf("loupe %s sae: %.0f tokens/s, %.1f GFLOP/s (dense-equivalent), %s, data wait %.1f%% (rows in memory)%n",
                        a.saeLensName(), r.tokensPerSecond(), gflops, bound, 100 * r.dataSeconds() / r.seconds());
            }
            // The streaming path: host rows (as decoded from Parquet) through a 64k-row shuffle buffer.
            float[][] host = new float[batch * 4][];
            float[] flat = rows.toFloatArray();
            for (int i = 0; i < host.length; i++) {
                host[i] = java.util.Arrays.copyOfRange(flat, i * dIn, (i + 1) * dIn);
            }
            ShuffleBufferSource buffered = new ShuffleBufferSource(() -> java.util.Arrays.asList(host).iterator(), dIn, 65536, 1);
            SaeTrainer.Result b = SaeTrainer.train(cfg, buffered, rows.get(":1024"), m, 1000, l -> { });
            System.out.printf("loupe topk sae, streamed through a 65,536-row shuffle buffer: %.0f tokens/s, data wait %.1f%%%n", b.tokensPerSecond(),
                    100 * b.dataSeconds() / b.seconds());
        }
        return 0;
    }

    /** Tokens/s if a step cost only the encoder's product {@code (x − b_dec) W_enc + b_enc}: the best of five timings. */
    private static double encoderTokensPerSecond(NDManager m, int batch, int dIn, int dSae) {
        try (NDManager s = m.newSubManager()) {
            NDArray x = s.randomNormal(0, 1, new Shape(batch, dIn), DataType.FLOAT32);
            NDArray w = s.randomNormal(0, 0.05f, new Shape(dIn, dSae), DataType.FLOAT32), b = s.zeros(new Shape(dSae));
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 5; i++) {
                long t0 = System.nanoTime();
                x.matMul(w).addi(b).close();
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
            return batch / best;
        }
    }
}
