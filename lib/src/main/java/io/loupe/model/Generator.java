package io.loupe.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import io.loupe.hooks.Hooks;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Sampling and greedy decoding with a {@link KvCache}: the prompt runs once, then each step runs one token
 * per row. Batches of prompts of different lengths are left-padded (positions count real tokens only, so
 * each row decodes exactly as it would alone).
 */
public final class Generator {
    private Generator() {
    }

    /**
     * Samples {@code count} continuations of {@code prompt} at {@code temperature}, in one batch, {@code newTokens}
     * each (EOS is kept as a token and sampling goes on, so all rows have the same length). Seeded.
     *
     * @return {@code count} sequences of {@code prompt.length + newTokens} ids
     */
    public static List<long[]> sample(LanguageModel model, long[] prompt, int count, int newTokens, double temperature, long seed) {
        java.util.Random rnd = new java.util.Random(seed);
        List<long[]> seqs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            seqs.add(Arrays.copyOf(prompt, prompt.length + newTokens));
        }
        try (KvCache cache = new KvCache(model)) {
            List<long[]> step = java.util.Collections.nCopies(count, prompt);
            for (int t = prompt.length; t < prompt.length + newTokens; t++) {
                try (NDManager m = model.manager().newSubManager()) {
                    NDArray logits = model.forward(TokenBatch.of(m, step, 0), Hooks.none(), cache).get(new NDIndex(":, -1, :"));
                    float[] p = logits.div(temperature).softmax(1).toFloatArray();                   // [count, vocab]
                    int vocab = p.length / count;
                    List<long[]> next = new ArrayList<>(count);
                    for (int i = 0; i < count; i++) {
                        double u = rnd.nextDouble(), c = 0;
                        int tok = vocab - 1;
                        for (int v = 0; v < vocab; v++) {
                            c += p[i * vocab + v];
                            if (u < c) {
                                tok = v;
                                break;
                            }
                        }
                        seqs.get(i)[t] = tok;
                        next.add(new long[]{tok});
                    }
                    step = next;
                }
            }
        }
        return seqs;
    }

    /** Appends up to {@code maxNewTokens} argmax tokens to {@code prompt}, stopping after {@code eosId}. */
    public static long[] greedy(LanguageModel model, long[] prompt, int maxNewTokens, long eosId) {
        long[] continuation = greedy(model, List.of(prompt), maxNewTokens, eosId).get(0);
        long[] out = Arrays.copyOf(prompt, prompt.length + continuation.length);
        System.arraycopy(continuation, 0, out, prompt.length, continuation.length);
        return out;
    }

    /**
     * Greedy continuations of several prompts in one left-padded batch: each row's argmax tokens, up to
     * {@code maxNewTokens}, ending with {@code eosId} where it was produced (-1: never stop early).
     *
     * @return per prompt, the new tokens only
     */
    public static List<long[]> greedy(LanguageModel model, List<long[]> prompts, int maxNewTokens, long eosId) {
        int n = prompts.size();
        List<List<Long>> out = new ArrayList<>();
        boolean[] done = new boolean[n];
        for (int i = 0; i < n; i++) {
            out.add(new ArrayList<>());
        }
        try (KvCache cache = new KvCache(model)) {
            try (NDManager m = model.manager().newSubManager()) {
                long[] next = argmaxLast(model.forward(TokenBatch.leftPadded(m, prompts, 0), Hooks.none(), cache));
                record(next, out, done, eosId);
                for (int t = 1; t < maxNewTokens && !allDone(done); t++) {
                    List<long[]> step = new ArrayList<>(n);
                    for (long id : next) {
                        step.add(new long[]{id});
                    }
                    try (NDManager s = m.newSubManager()) {
                        next = argmaxLast(model.forward(TokenBatch.of(s, step, 0), Hooks.none(), cache));
                    }
                    record(next, out, done, eosId);
                }
            }
        }
        List<long[]> result = new ArrayList<>(n);
        for (List<Long> o : out) {
            result.add(o.stream().mapToLong(Long::longValue).toArray());
        }
        return result;
    }

    private static long[] argmaxLast(NDArray logits) {
        return logits.get(new NDIndex(":, -1, :")).argMax(1).toLongArray();
    }

    private static void record(long[] next, List<List<Long>> out, boolean[] done, long eosId) {
        for (int i = 0; i < next.length; i++) {
            if (!done[i]) {
                out.get(i).add(next[i]);
                done[i] = next[i] == eosId;
            }
        }
    }

    private static boolean allDone(boolean[] done) {
        for (boolean d : done) {
            if (!d) {
                return false;
            }
        }
        return true;
    }
}
