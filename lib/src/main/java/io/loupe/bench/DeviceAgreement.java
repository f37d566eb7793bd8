package io.loupe.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.loupe.hooks.HookPoint;
import io.loupe.hooks.Hooks;
import io.loupe.model.LanguageModel;
import io.loupe.model.ModelLoader;
import io.loupe.model.TokenBatch;
import io.loupe.train.LmTrainer;
import io.loupe.train.StepLog;
import io.loupe.train.TrainConfig;
import io.loupe.train.TrainData;
import io.loupe.train.TrainSequence;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Does another device (a GPU) compute what the CPU computes, and how fast? The same model and inputs on both:
 * a forward pass compared at the logits and every hook point, and a few training steps compared by their losses.
 * The error of a tensor is max |a − b| / max |a| (relative to its scale, so near-zero entries do not dominate).
 */
public final class DeviceAgreement {
    /** One comparison: the worst relative error, where it was, and each device's throughput. */
    public record Check(String what, double maxRelError, String worst, double cpuTokensPerSecond, double otherTokensPerSecond) {
    }

    private DeviceAgreement() {
    }

    /** Logits and every hook point of {@code batch} random sequences of {@code seq} tokens, on the CPU and on {@code other}. */
    public static Check forward(Path modelDir, Device other, int batch, int seq) throws IOException {
        try (LanguageModel cpu = ModelLoader.load(modelDir, Device.cpu()); LanguageModel dev = ModelLoader.load(modelDir, other)) {
            List<long[]> tokens = randomTokens(cpu.config().vocabSize(), batch, seq, 0);
            List<HookPoint> points = cpu.hookPoints();
            double worst = 0;
            String where = "";
            try (NDManager mc = cpu.manager().newSubManager(); NDManager md = dev.manager().newSubManager()) {
                Hooks hc = Hooks.none().capture(points), hd = Hooks.none().capture(points);
                NDArray lc = cpu.forward(TokenBatch.of(mc, tokens, 0), hc), ld = dev.forward(TokenBatch.of(md, tokens, 0), hd);
                worst = relError(lc, ld);
                where = "logits";
                for (HookPoint p : points) {
                    double e = relError(hc.captured(p), hd.captured(p));
                    if (e > worst) {
                        worst = e;
                        where = p.name();
                    }
                }
            }
            double rc = ForwardBenchmark.forward("cpu", cpu, batch, seq, 3, 1).tokensPerSecond();
            double rd = ForwardBenchmark.forward("other", dev, batch, seq, 3, 1).tokensPerSecond();
            return new Check("forward " + modelDir.getFileName(), worst, where, rc, rd);
        }
    }

    /** {@code steps} AdamW steps from the same weights on the same batches: the training losses compared step by step. */
    public static Check train(Path modelDir, Device other, int batch, int seq, int steps) throws IOException {
        double[][] losses = new double[2][];
        double[] rates = new double[2];
        Device[] devices = {Device.cpu(), other};
        for (int d = 0; d < 2; d++) {
            try (LanguageModel model = ModelLoader.load(modelDir, devices[d])) {
                List<TrainSequence> seqs = new ArrayList<>();
                int i = 0;
                for (long[] ids : randomTokens(model.config().vocabSize(), 4 * batch, seq + 1, 2)) {
                    seqs.add(new TrainSequence("r" + i++, ids, 1));
                }
                TrainConfig cfg = TrainConfig.defaults(1e-3, batch, steps, 0).withOptimizer(0.1, 1.0, 0, 1.0).withCheckpoints();
                List<Double> log = new ArrayList<>();
                long t0 = System.nanoTime();
                LmTrainer.train(model, TrainData.trainOnly(seqs), cfg, new LmTrainer.Listener() {
                    @Override
                    public void onStep(StepLog s) {
                        log.add(s.trainLoss());
                    }

                    @Override
                    public void onCheckpoint(int step, long tokensSeen) {
                    }
                }, null);
                rates[d] = (double) steps * batch * seq / ((System.nanoTime() - t0) / 1e9);
                losses[d] = log.stream().mapToDouble(Double::doubleValue).toArray();
            }
        }
        double worst = 0;
        int at = 0;
        for (int s = 0; s < steps; s++) {
            double e = Math.abs(losses[0][s] - losses[1][s]) / Math.abs(losses[0][s]);
            if (e > worst) {
                worst = e;
                at = s + 1;
            }
        }
        return new Check("train " + modelDir.getFileName() + ", " + steps + " steps", worst, "loss at step " + at, rates[0], rates[1]);
    }

    /** max |a − b| / max |a|, both copied to the CPU as float32. */
    static double relError(NDArray a, NDArray b) {
        float[] x = a.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
        float[] y = b.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
        if (x.length != y.length) {
            throw new IllegalStateException("shapes differ: " + a.getShape() + " vs " + b.getShape());
        }
        double diff = 0, scale = 0;
        for (int i = 0; i < x.length; i++) {
            diff = Math.max(diff, Math.abs((double) x[i] - y[i]));
            scale = Math.max(scale, Math.abs(x[i]));
        }
        return Double.isNaN(diff) ? Double.NaN : diff / Math.max(scale, 1e-12);
    }

    private static List<long[]> randomTokens(int vocab, int batch, int seq, long seed) {
        Random rnd = new Random(seed);
        List<long[]> out = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
            long[] s = new long[seq];
            for (int t = 0; t < seq; t++) {
                s[t] = 3 + rnd.nextInt(vocab - 3);
            }
            out.add(s);
        }
        return out;
    }
}
