package io.loupe.train;

import io.loupe.collect.Example;
import io.loupe.collect.Packing;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * A corpus ready for training: sequences split into a training and a held-out set, and a batch order that is a
 * pure function of (seed, step). Each epoch visits every training sequence once, in a seeded permutation of its
 * own; micro-batch j of step s holds the sequences at positions {@code ((s·accum + j)·batch + r)} of that endless
 * order. A resumed run therefore needs only its step to continue with the same data.
 */
public final class TrainData implements java.io.Serializable {
    private final List<TrainSequence> train;
    private final List<TrainSequence> heldOut;
    private transient long cachedSeed;
    private transient int cachedEpoch = -1;
    private transient int[] cachedOrder;

    private TrainData(List<TrainSequence> train, List<TrainSequence> heldOut) {
        this.train = List.copyOf(train);
        this.heldOut = List.copyOf(heldOut);
    }

    /**
     * Text documents concatenated in order and cut into windows of {@code contextSize} tokens (the last one may be
     * shorter; one of a single token is dropped). Every token of a window but the first is a target.
     */
    public static List<TrainSequence> pack(List<Example> docs, int contextSize) {
        if (contextSize < 2) {
            throw new IllegalArgumentException("the context size must be >= 2, got " + contextSize);
        }
        List<TrainSequence> out = new ArrayList<>();
        for (Example w : Packing.pack(docs, contextSize)) {
            if (w.tokens().length >= 2) {
                out.add(new TrainSequence(w.id(), w.tokens(), 1));
            }
        }
        return out;
    }

    /**
     * The corpus of a run: documents sorted by id (so the result does not depend on how the input was partitioned)
     * and packed into windows of {@code contextSize}, question/answer sequences whole; then {@link #split}. A corpus
     * whose documents do not fill one window, or a QA row longer than the context, is refused.
     */
    public static TrainData build(List<Example> documents, List<TrainSequence> qa, int contextSize, double heldOutFraction, long splitSeed) {
        List<Example> docs = new ArrayList<>(documents);
        docs.sort(java.util.Comparator.comparing(Example::id));
        long textTokens = docs.stream().mapToLong(d -> d.tokens().length).sum();
        if (!docs.isEmpty() && qa.isEmpty() && textTokens < contextSize) {
            throw new IllegalArgumentException("the corpus has " + textTokens + " tokens, fewer than one context of " + contextSize
                    + "; lower --context-size or add text");
        }
        List<TrainSequence> all = new ArrayList<>(pack(docs, contextSize));
        List<TrainSequence> sortedQa = new ArrayList<>(qa);
        sortedQa.sort(java.util.Comparator.comparing(TrainSequence::id));
        for (TrainSequence s : sortedQa) {
            if (s.ids().length > contextSize) {
                throw new IllegalArgumentException("QA row '" + s.id() + "' has " + s.ids().length + " tokens, more than the context size "
                        + contextSize);
            }
        }
        all.addAll(sortedQa);
        return split(all, heldOutFraction, splitSeed);
    }

    /**
     * Every document and QA row as a sequence of its own, in id order (no packing): one row, one example, as unlearning
     * and scoring want. Documents' targets are every token after the first.
     */
    public static List<TrainSequence> unpacked(List<Example> documents, List<TrainSequence> qa) {
        List<TrainSequence> out = new ArrayList<>();
        for (Example d : documents) {
            out.add(new TrainSequence(d.id(), d.tokens(), 1));
        }
        out.addAll(qa);
        out.sort(java.util.Comparator.comparing(TrainSequence::id));
        return out;
    }

    /**
     * Splits sequences into training and held-out sets: a seeded shuffle, then the first
     * {@code ceil(fraction · n)} are held out (at least one when the fraction is positive and there are two or more).
     */
    public static TrainData split(List<TrainSequence> sequences, double heldOutFraction, long splitSeed) {
        if (!(heldOutFraction >= 0 && heldOutFraction < 1)) {
            throw new IllegalArgumentException("the held-out fraction must be in [0, 1), got " + heldOutFraction);
        }
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("the corpus has no training sequences");
        }
        List<TrainSequence> shuffled = new ArrayList<>(sequences);
        Collections.shuffle(shuffled, new Random(splitSeed));
        int held = heldOutFraction == 0 || shuffled.size() < 2 ? 0
                : (int) Math.min(shuffled.size() - 1, Math.max(1, Math.ceil(heldOutFraction * shuffled.size())));
        return new TrainData(shuffled.subList(held, shuffled.size()), shuffled.subList(0, held));
    }

    /** Training and held-out sequences as given (e.g. a slice to train on and a whole set to evaluate on). */
    public static TrainData of(List<TrainSequence> train, List<TrainSequence> heldOut) {
        if (train.isEmpty()) {
            throw new IllegalArgumentException("no training sequences");
        }
        return new TrainData(train, heldOut);
    }

    /** All sequences are trained on; none held out. */
    public static TrainData trainOnly(List<TrainSequence> sequences) {
        return split(sequences, 0, 0);
    }

    public List<TrainSequence> train() {
        return train;
    }

    public List<TrainSequence> heldOut() {
        return heldOut;
    }

    /** The sequences of micro-batch {@code micro} of step {@code step}. */
    public List<TrainSequence> microBatch(long seed, int step, int micro, int accum, int batchSize) {
        List<TrainSequence> out = new ArrayList<>(batchSize);
        long first = ((long) step * accum + micro) * batchSize;
        for (long g = first; g < first + batchSize; g++) {
            int epoch = (int) (g / train.size());
            out.add(train.get(order(seed, epoch)[(int) (g % train.size())]));
        }
        return out;
    }

    /** Real tokens (padding excluded) of each step, {@code steps} of them: what tokens_seen counts. */
    public long[] tokensPerStep(long seed, int steps, int accum, int batchSize) {
        long[] t = new long[steps];
        for (int s = 0; s < steps; s++) {
            for (int j = 0; j < accum; j++) {
                for (TrainSequence q : microBatch(seed, s, j, accum, batchSize)) {
                    t[s] += q.ids().length;
                }
            }
        }
        return t;
    }

    /** A digest of the contents, so a training state is never resumed over other data. */
    public String fingerprint() {
        long h = 1125899906842597L;
        for (List<TrainSequence> part : List.of(train, heldOut)) {
            for (TrainSequence s : part) {
                h = 31 * h + s.id().hashCode();
                h = 31 * h + java.util.Arrays.hashCode(s.ids());
                h = 31 * h + s.firstTarget();
            }
            h = 31 * h + part.size();
        }
        return Long.toHexString(h);
    }

    private synchronized int[] order(long seed, int epoch) {
        if (epoch != cachedEpoch || seed != cachedSeed || cachedOrder == null) {
            int[] o = new int[train.size()];
            for (int i = 0; i < o.length; i++) {
                o[i] = i;
            }
            Random r = new Random(seed * 1_000_003L + epoch);
            for (int i = o.length - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = o[i];
                o[i] = o[j];
                o[j] = t;
            }
            cachedOrder = o;
            cachedEpoch = epoch;
            cachedSeed = seed;
        }
        return cachedOrder;
    }
}
