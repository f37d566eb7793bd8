package io.loupe.bench;

import ai.djl.Device;
import io.loupe.model.LanguageModel;
import io.loupe.model.MlpActivation;
import io.loupe.model.ModelConfig;
import io.loupe.model.ModelInit;
import io.loupe.model.Runtime;
import io.loupe.train.LmTrainer;
import io.loupe.train.StepLog;
import io.loupe.train.TrainConfig;
import io.loupe.train.TrainData;
import io.loupe.train.TrainSequence;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Language-model training throughput on the 25M shape of {@code ../shared/peers/peer_train.py} (d 512, 8 layers,
 * 8 heads, d_mlp 1376, vocab 512, untied head): batches of 8 sequences of 257 random tokens (256 predictions
 * each), AdamW (lr 3e-4, decay 0.1), clipping at 1.0. Counted as the peer counts: tokens = predictions, model FLOPs
 * = 6 · (linear parameters) · tokens + 12 · layers · d · T · tokens for attention.
 */
public final class TrainBenchmark {
    /** Timed steps after warm-up: tokens per second and model GFLOP/s. */
    public record Result(int steps, double seconds, long tokens, double gflop) {
        public double tokensPerSecond() {
            return tokens / seconds;
        }

        public double gflops() {
            return gflop / seconds;
        }
    }

    private TrainBenchmark() {
    }

    /** The peer's shape. */
    public static ModelConfig shape25m() {
        return ModelConfig.llama("LlamaForCausalLM", 512, 1376, 8, 8, 8, 64, 512, 1e-5, 10000, false, false, 1, 2, MlpActivation.SILU);
    }

    /**
     * {@code steps} timed steps after {@code warmup} untimed ones: the clock starts when the last warm-up step ends, so
     * at least one is needed.
     */
    public static Result run(ModelConfig c, int batch, int seq, int warmup, int steps) {
        if (warmup < 1 || steps < 1) {
            throw new IllegalArgumentException("need warmup >= 1 (timing starts when the last warm-up step ends) and steps >= 1, got "
                    + warmup + " and " + steps);
        }
        Random rnd = new Random(0);
        List<TrainSequence> seqs = new ArrayList<>();
        for (int i = 0; i < 4 * batch; i++) {
            long[] ids = new long[seq + 1];
            for (int t = 0; t < ids.length; t++) {
                ids[t] = 3 + rnd.nextInt(c.vocabSize() - 3);
            }
            seqs.add(new TrainSequence("r" + i, ids, 1));
        }
        TrainData data = TrainData.trainOnly(seqs);
        try (LanguageModel model = ModelInit.build(c, 0, Runtime.newManager(Device.cpu()))) {
            TrainConfig cfg = TrainConfig.defaults(3e-4, batch, warmup + steps, 0).withOptimizer(0.1, 1.0, 0, 1.0).withCheckpoints();
            long[] marks = new long[2];
            LmTrainer.train(model, data, cfg, new LmTrainer.Listener() {
                @Override
                public void onStep(StepLog log) {
                    if (log.step() == warmup) {
                        marks[0] = System.nanoTime();
                    }
                    marks[1] = System.nanoTime();
                }

                @Override
                public void onCheckpoint(int step, long tokensSeen) {
                }
            }, null);
            double seconds = (marks[1] - marks[0]) / 1e9;
            long tokens = (long) steps * batch * seq;
            long linear = (long) c.vocabSize() * c.dModel() + (long) c.numLayers() * (4L * c.dModel() * c.dModel() + 3L * c.dModel() * c.dMlp());
            double flop = (double) tokens * (6.0 * linear + 12.0 * c.numLayers() * c.dModel() * seq);
            return new Result(steps, seconds, tokens, flop / 1e9);
        }
    }
}
