package io.loupe.collect;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.loupe.hooks.HookKind;
import io.loupe.hooks.HookPoint;
import io.loupe.hooks.Hooks;
import io.loupe.model.LanguageModel;
import io.loupe.model.ModelConfig;
import io.loupe.model.TokenBatch;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Runs examples through a model in batches and yields one {@link ActivationRow} per real token
 * position per hook. Examples are batched in order of (length, id), so padding stays small and the
 * output is the same on every run. Rows are produced lazily, one batch at a time.
 */
public final class ActivationCollector {
    private final LanguageModel model;
    private final List<HookPoint> hooks;
    private final ValueDtype dtype;
    private final int batchSize;
    private final int topK;
    private long forwardNanos;
    private long encodeNanos;
    private long tokens;

    /**
     * @param hooks     hook points to store; {@code attn.hook_pattern} is refused (its width varies with sequence length)
     * @param batchSize sequences per forward pass
     * @param topK      top next-token logits to store per row (0: none)
     */
    public ActivationCollector(LanguageModel model, List<HookPoint> hooks, ValueDtype dtype, int batchSize, int topK) {
        validateHooks(model.config(), hooks);
        if (batchSize < 1 || topK < 0 || topK > model.config().vocabSize()) {
            throw new IllegalArgumentException("batch size must be >= 1 and top-k in [0, vocab], got " + batchSize + ", " + topK);
        }
        this.model = model;
        this.hooks = List.copyOf(hooks);
        this.dtype = dtype;
        this.batchSize = batchSize;
        this.topK = topK;
    }

    /** Throws, with the reason, for hooks collect cannot store; shared by the driver's checks. */
    public static void validateHooks(ModelConfig config, List<HookPoint> hooks) {
        if (hooks.isEmpty()) {
            throw new IllegalArgumentException("collect needs at least one hook");
        }
        hooks.forEach(p -> p.validate(config.numLayers()));
        for (HookPoint p : hooks) {
            if (p.kind() == HookKind.ATTN_PATTERN) {
                throw new IllegalArgumentException(p + ": attention patterns have a width that grows with sequence length and are not"
                        + " stored by collect; use `loupe forward` for them");
            }
        }
    }

    /** Values per row at a hook: d_model, d_mlp or heads * d_head. */
    public static int width(ModelConfig c, HookPoint p) {
        return switch (p.kind()) {
            case MLP_POST -> c.dMlp();
            case ATTN_Z -> c.numHeads() * c.dHead();
            case ATTN_PATTERN -> throw new IllegalArgumentException("no fixed width for " + p);
            default -> c.dModel();
        };
    }

    public Iterator<ActivationRow> collect(List<Example> examples) {
        List<Example> sorted = new ArrayList<>(examples);
        sorted.sort(Comparator.<Example>comparingInt(e -> e.tokens().length).thenComparing(Example::id));
        return new Iterator<>() {
            private int next;
            private Iterator<ActivationRow> current = List.<ActivationRow>of().iterator();

            @Override
            public boolean hasNext() {
                while (!current.hasNext() && next < sorted.size()) {
                    List<Example> chunk = sorted.subList(next, Math.min(sorted.size(), next + batchSize));
                    next += chunk.size();
                    current = runBatch(chunk).iterator();
                }
                return current.hasNext();
            }

            @Override
            public ActivationRow next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return current.next();
            }
        };
    }

    private List<ActivationRow> runBatch(List<Example> chunk) {
        try (NDManager m = model.manager().newSubManager()) {
            TokenBatch batch = TokenBatch.of(m, chunk.stream().map(Example::tokens).toList(), 0);
            long t0 = System.nanoTime();
            Hooks h = Hooks.none().capture(hooks);
            NDArray logits = model.forward(batch, h);
            float[][] logprob = TokenStats.nextTokenLogprob(logits, batch.ids(), batch.mask());
            float[][] entropy = TokenStats.entropy(logits);
            int[][] topIds = null;
            float[][] topLogits = null;
            NDArray real = realRowIndex(m, batch);                          // [n_real] into the flattened [B*T]
            if (topK > 0) {
                NDList top = logits.reshape(-1, logits.getShape().get(2)).get(real).topK(topK, 1, true, true);
                topLogits = rowsOf(top.get(0).toType(DataType.FLOAT32, false).toFloatArray(), topK);
                topIds = rowsOf(top.get(1).toType(DataType.INT32, false).toIntArray(), topK);
            }
            long t1 = System.nanoTime();
            List<ActivationRow> rows = new ArrayList<>();
            for (HookPoint p : hooks) {
                NDArray act = h.captured(p);
                NDArray flat = act.reshape(-1, width(model.config(), p)).get(real).toType(DataType.FLOAT32, false);
                byte[][] values = dtype.encodeRows(flat);
                int r = 0;
                for (int b = 0; b < chunk.size(); b++) {
                    Example e = chunk.get(b);
                    for (int t = 0; t < e.tokens().length; t++, r++) {
                        rows.add(new ActivationRow(e.id(), t, (int) e.tokens()[t], p.name(), p.layer(), values[r], logprob[b][t],
                                entropy[b][t], topIds == null ? null : topIds[r], topLogits == null ? null : topLogits[r]));
                    }
                }
            }
            long t2 = System.nanoTime();
            forwardNanos += t1 - t0;
            encodeNanos += t2 - t1;
            tokens += batch.realTokens();
            return rows;
        }
    }

    /** Flat indices {@code b * T + t} of the real (non-padding) positions, in (b, t) order. */
    private static NDArray realRowIndex(NDManager m, TokenBatch batch) {
        int t = batch.seqLen();
        long[] idx = new long[(int) batch.realTokens()];
        int r = 0;
        for (int b = 0; b < batch.batchSize(); b++) {
            for (int i = 0; i < batch.lengths()[b]; i++) {
                idx[r++] = (long) b * t + i;
            }
        }
        return m.create(idx);
    }

    private static float[][] rowsOf(float[] flat, int k) {
        float[][] out = new float[flat.length / k][];
        for (int i = 0; i < out.length; i++) {
            out[i] = java.util.Arrays.copyOfRange(flat, i * k, (i + 1) * k);
        }
        return out;
    }

    private static int[][] rowsOf(int[] flat, int k) {
        int[][] out = new int[flat.length / k][];
        for (int i = 0; i < out.length; i++) {
            out[i] = java.util.Arrays.copyOfRange(flat, i * k, (i + 1) * k);
        }
        return out;
    }

    /** Nanoseconds in forward passes and per-token statistics so far. */
    public long forwardNanos() {
        return forwardNanos;
    }

    /** Nanoseconds gathering and encoding rows so far. */
    public long encodeNanos() {
        return encodeNanos;
    }

    /** Real tokens processed so far. */
    public long tokens() {
        return tokens;
    }
}
