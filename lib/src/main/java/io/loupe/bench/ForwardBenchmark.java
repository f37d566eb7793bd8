package io.loupe.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import io.loupe.hooks.Hooks;
import io.loupe.model.InferenceWorkers;
import io.loupe.model.LanguageModel;
import io.loupe.model.ModelConfig;
import io.loupe.model.Runtime;
import io.loupe.model.TokenBatch;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * Forward-pass throughput and the ceilings it is judged against, measured in the same process: the fp32 matmul rate
 * of a large square product, and the time the model's own linear products take when run alone at the pass's shapes
 * (a pass can be no faster than its products; the rest of its time is attention, norms and elementwise work).
 * FLOPs count each multiply-add as 2: the linear layers, 2·tokens·params, plus attention scores and mixing over the
 * causal triangle with its diagonal, 4·B·L·H·d_head·T(T+1)/2: the least any causal kernel computes (Loupe's
 * block-causal attention computes a little more), so GFLOP/s never credits work a mask throws away.
 *
 * <p>The share of the ceiling is also measured in pairs ({@link Result#pairedShare}): each timed pass follows its own
 * ceiling measurement, and the share is the median over passes of pass rate / that ceiling. On a host whose speed drifts
 * (this 2-core VM's moved by 20% within an hour), a pass and a ceiling a second apart see the same machine, while the
 * best pass against the best ceiling of the run compares different moments.
 */
public final class ForwardBenchmark {
    /**
     * One measurement: best-of-repeats throughput, and the median share of the matmul ceiling measured just before each
     * timed pass.
     */
    public record Result(String name, int batch, int seq, double secondsPerBatch, double gflopPerBatch, double pairedShare) {
        public double tokensPerSecond() {
            return batch * seq / secondsPerBatch;
        }

        public double gflops() {
            return gflopPerBatch / secondsPerBatch;
        }
    }

    /** Timings of the 2048² product per ceiling measurement, the best kept: bench forward's overall ceiling uses as many. */
    public static final int CEILING_REPEATS = 8;

    private ForwardBenchmark() {
    }

    /** Best of {@code repeats} timings of an {@code n×n} fp32 matmul on the model's device, in GFLOP/s. */
    public static double matmulGflops(NDManager manager, int n, int repeats) {
        try (NDManager m = manager.newSubManager()) {
            NDArray a = m.randomNormal(0, 1, new Shape(n, n), DataType.FLOAT32);
            NDArray b = m.randomNormal(0, 1, new Shape(n, n), DataType.FLOAT32);
            return 2.0 * n * n * n / bestSeconds(() -> a.matMul(b), repeats) / 1e9;
        }
    }

    /** Best of {@code repeats} timings of {@code product}, after one untimed run; each result is freed. */
    private static double bestSeconds(Supplier<NDArray> product, int repeats) {
        product.get().close();
        double best = Double.MAX_VALUE;
        for (int i = 0; i < repeats; i++) {
            long t = System.nanoTime();
            NDArray y = product.get();
            y.getFloat(0, 0);   // forces completion on asynchronous devices
            best = Math.min(best, (System.nanoTime() - t) / 1e9);
            y.close();
        }
        return best;
    }

    /** Best of {@code repeats} timed forward passes (after one warm-up) over random tokens, one at a time; ceilings paired. */
    public static Result forward(String name, LanguageModel model, int batch, int seq, int repeats, long seed) {
        return forward(name, model, batch, seq, 1, repeats, seed, 1);
    }

    /**
     * Best of {@code repeats} timings (after {@code warmups} untimed ones) of {@code workers} forward passes run side by side as
     * {@code loupe forward} runs them ({@link InferenceWorkers}), each over the same random {@code batch × seq} tokens;
     * seconds per batch is the wall time over {@code workers}, so tokens/s is the throughput. Each timing follows a
     * measurement of the 2048² matmul rate (best of {@link #CEILING_REPEATS}) on the model's device, for {@link Result#pairedShare}.
     * A process's first passes run slower (the JIT compiles the pass's Java, the allocator's heaps grow): warm-ups let the
     * timings see the steady state a long job runs in.
     */
    public static Result forward(String name, LanguageModel model, int batch, int seq, int warmups, int repeats, long seed, int workers) {
        if (repeats < 1 || warmups < 0) {
            throw new IllegalArgumentException("need repeats >= 1 and warmups >= 0, got " + repeats + " and " + warmups);
        }
        Callable<Float> pass = pass(model, batch, seq, seed);
        List<Callable<Float>> passes = Collections.nCopies(workers, pass);
        double gflop = flops(model.config(), batch, seq) / 1e9;
        double[] seconds = new double[repeats], ceilings = new double[repeats];
        for (int i = -warmups; i < repeats; i++) {
            double ceiling = i < 0 ? 0 : matmulGflops(model.manager(), 2048, CEILING_REPEATS);
            long t = System.nanoTime();
            InferenceWorkers.run(workers, passes, done -> { });
            if (i >= 0) {
                seconds[i] = (System.nanoTime() - t) / 1e9 / workers;
                ceilings[i] = ceiling;
            }
        }
        return new Result(name, batch, seq, Arrays.stream(seconds).min().orElseThrow(), gflop, pairedShare(gflop, seconds, ceilings));
    }

    /**
     * One forward pass of the model over the same {@code batch × seq} random tokens (from {@code seed}) each time it is
     * called, with no hooks; it returns one logit, which also forces completion on asynchronous devices.
     */
    private static Callable<Float> pass(LanguageModel model, int batch, int seq, long seed) {
        Random rnd = new Random(seed);
        List<long[]> tokens = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
            long[] s = new long[seq];
            for (int t = 0; t < seq; t++) {
                s[t] = rnd.nextInt(model.config().vocabSize());
            }
            tokens.add(s);
        }
        return () -> {
            try (NDManager m = model.manager().newSubManager()) {
                return model.forward(TokenBatch.of(m, tokens, 0), Hooks.none()).getFloat(0, 0, 0);
            }
        };
    }

    /**
     * {@code passes} forward passes (after one warm-up) on this thread, one at a time on all of libtorch's threads, under libtorch's profiler ({@link OpProfile}):
     * the trace goes to {@code trace}, and the result is the time per top-level operator over all passes.
     */
    public static List<OpProfile.OpTime> profile(LanguageModel model, int batch, int seq, long seed, int passes, Path trace) throws IOException {
        if (passes < 1) {
            throw new IllegalArgumentException("passes must be >= 1, got " + passes);
        }
        Callable<Float> pass = pass(model, batch, seq, seed);
        Runnable run = () -> {
            try {
                pass.call();
            } catch (Exception e) {
                throw new IllegalStateException("forward pass failed", e);
            }
        };
        run.run();
        return OpProfile.profile(() -> {
            for (int i = 0; i < passes; i++) {
                run.run();
            }
        }, trace);
    }

    /**
     * The median over timings of {@code (gflop / seconds[i]) / ceilings[i]}: each pass's rate as a share of the ceiling
     * measured just before it (for an even count, the mean of the middle two).
     */
    static double pairedShare(double gflop, double[] seconds, double[] ceilings) {
        if (seconds.length == 0 || seconds.length != ceilings.length) {
            throw new IllegalArgumentException("need as many ceilings as timings, at least one: " + seconds.length + " and " + ceilings.length);
        }
        double[] shares = new double[seconds.length];
        for (int i = 0; i < shares.length; i++) {
            shares[i] = gflop / seconds[i] / ceilings[i];
        }
        Arrays.sort(shares);
        int n = shares.length;
        return n % 2 == 1 ? shares[n / 2] : (shares[n / 2 - 1] + shares[n / 2]) / 2;
    }

    /** FLOPs of one forward pass of {@code batch × seq} tokens. */
    public static double flops(ModelConfig c, int batch, int seq) {
        double d = c.dModel(), q = (double) c.numHeads() * c.dHead(), kv = (double) c.numKvHeads() * c.dHead();
        double perLayer = d * q + 2 * d * kv + q * d + (c.parts().gatedMlp() ? 3 : 2) * d * c.dMlp();   // a plain MLP has no gate
        double params = c.numLayers() * perLayer + d * c.vocabSize();
        double tokens = (double) batch * seq;
        double attention = 4.0 * batch * c.numLayers() * q * seq * (seq + 1.0) / 2;
        return 2 * tokens * params + attention;
    }

    /**
     * The linear products of one forward pass as {@code {in, out, times}}: per layer q/k/v (one stacked product), the
     * attention output, the MLP input (gate and up as two products when gated, as the model runs them) and output;
     * then the unembedding. Their FLOPs add up to the linear part of {@link #flops}.
     */
    static List<long[]> linearShapes(ModelConfig c) {
        long d = c.dModel(), q = (long) c.numHeads() * c.dHead(), kv = (long) c.numKvHeads() * c.dHead(), layers = c.numLayers();
        boolean gated = c.parts().gatedMlp();
        return List.of(new long[]{d, q + 2 * kv, layers}, new long[]{q, d, layers}, new long[]{d, c.dMlp(), (gated ? 2 : 1) * layers},
                new long[]{c.dMlp(), d, layers}, new long[]{d, c.vocabSize(), 1});
    }

    /**
     * Seconds the linear products of one pass over {@code tokens} rows take run alone: for each shape of
     * {@link #linearShapes}, the best of {@code repeats} products {@code x[tokens, in] · w[out, in]^T}, times its count.
     */
    public static double linearSeconds(NDManager manager, ModelConfig c, long tokens, int repeats) {
        double total = 0;
        for (long[] shape : linearShapes(c)) {
            try (NDManager m = manager.newSubManager()) {
                NDArray x = m.randomNormal(0, 1, new Shape(tokens, shape[0]), DataType.FLOAT32);
                NDArray w = m.randomNormal(0, 1, new Shape(shape[1], shape[0]), DataType.FLOAT32);
                total += shape[2] * bestSeconds(() -> Linear.linear(x, w).singletonOrThrow(), repeats);
            }
        }
        return total;
    }
}
