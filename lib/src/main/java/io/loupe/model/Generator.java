package io.loupe.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import io.loupe.hooks.Hooks;

import java.util.Arrays;
import java.util.List;

/** Greedy decoding, recomputing the whole sequence each step (no KV cache: for demos and checks). */
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
        List<long[]> seqs = new java.util.ArrayList<>();
        for (int i = 0; i < count; i++) {
            seqs.add(Arrays.copyOf(prompt, prompt.length + newTokens));
        }
        for (int t = prompt.length; t < prompt.length + newTokens; t++) {
            final int len = t;
            try (NDManager step = model.manager().newSubManager()) {
                List<long[]> prefixes = seqs.stream().map(s -> Arrays.copyOf(s, len)).toList();
                NDArray logits = model.forward(TokenBatch.of(step, prefixes, 0), Hooks.none()).get(new NDIndex(":, -1, :"));
                float[] p = logits.div(temperature).softmax(1).toFloatArray();                   // [count, vocab]
                int vocab = p.length / count;
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
                }
            }
        }
        return seqs;
    }

    /** Appends up to {@code maxNewTokens} argmax tokens to {@code prompt}, stopping after {@code eosId}. */
    public static long[] greedy(LanguageModel model, long[] prompt, int maxNewTokens, long eosId) {
        long[] ids = prompt.clone();
        for (int i = 0; i < maxNewTokens; i++) {
            long next;
            try (NDManager step = model.manager().newSubManager()) {
                NDArray logits = model.forward(TokenBatch.of(step, List.of(ids), 0), Hooks.none());
                next = logits.get(new NDIndex("0, -1")).argMax().getLong();
            }
            ids = Arrays.copyOf(ids, ids.length + 1);
            ids[ids.length - 1] = next;
            if (next == eosId) {
                break;
            }
        }
        return ids;
    }
}
