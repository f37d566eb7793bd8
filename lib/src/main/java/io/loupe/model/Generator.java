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
