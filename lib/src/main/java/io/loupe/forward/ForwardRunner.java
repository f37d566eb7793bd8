package io.loupe.forward;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import io.loupe.hooks.HookKind;
import io.loupe.hooks.HookPoint;
import io.loupe.hooks.Hooks;
import io.loupe.model.InferenceWorkers;
import io.loupe.model.LanguageModel;
import io.loupe.model.TokenBatch;
import io.loupe.tensor.TensorSink;
import io.loupe.tokenize.PromptTokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

/**
 * The work of {@code loupe forward}: tokenises prompts, runs them in batches of similar length, and
 * collects {@code <id>.logits} {@code [seq, vocab]} and {@code <id>.<hook>} (batch dimension dropped,
 * padding cut away; {@code attn.hook_pattern} is {@code [heads, seq, seq]}) as float32 tensors, the
 * layout of the shared reference test vectors.
 */
public final class ForwardRunner {
    /** What a run did, for the summary line. */
    public record Summary(int prompts, long tokens, int batches, double seconds) {
        public double tokensPerSecond() {
            return tokens / Math.max(seconds, 1e-9);
        }
    }

    private record Tokenised(Prompt prompt, long[] ids) {
    }

    private ForwardRunner() {
    }

    /** One batch's pass: its prompts, the batch, logits and captures, all owned by {@code manager}; closing frees them. */
    private record Pass(List<Tokenised> chunk, NDManager manager, TokenBatch batch, NDArray logits, Hooks hooks) implements AutoCloseable {
        @Override
        public void close() {
            manager.close();
        }
    }

    /** {@link #run(LanguageModel, PromptTokenizer, List, List, int, int, TensorSink, Consumer)} with {@link InferenceWorkers#auto} workers. */
    public static Summary run(LanguageModel model, PromptTokenizer tokenizer, List<Prompt> prompts, List<HookPoint> hooks,
                              int batchSize, TensorSink out, Consumer<String> progress) {
        return run(model, tokenizer, prompts, hooks, batchSize, 0, out, progress);
    }

    /**
     * @param tokenizer may be null when every prompt carries token ids
     * @param workers   batches run side by side ({@link InferenceWorkers}); 0 picks {@link InferenceWorkers#auto}. Outputs
     *                  are written in batch order whatever the number.
     * @param progress  receives a line after each batch
     */
    public static Summary run(LanguageModel model, PromptTokenizer tokenizer, List<Prompt> prompts, List<HookPoint> hooks,
                              int batchSize, int workers, TensorSink out, Consumer<String> progress) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        int threads = InferenceWorkers.resolve(workers, model.manager().getDevice(), (prompts.size() + batchSize - 1) / batchSize);
        model.validate(hooks);
        List<Tokenised> items = tokenise(model, tokenizer, prompts);
        // Sorting by length keeps padding, and so wasted compute, small; outputs are keyed by id.
        items.sort(Comparator.comparingInt(t -> t.ids().length));
        List<Callable<Pass>> passes = new ArrayList<>();
        for (int from = 0; from < items.size(); from += batchSize) {
            List<Tokenised> chunk = items.subList(from, Math.min(items.size(), from + batchSize));
            passes.add(() -> pass(model, chunk, hooks));
        }
        long start = System.nanoTime();
        long[] tokens = {0};
        int[] batches = {0};
        InferenceWorkers.run(threads, passes, p -> {
            try (p) {
                write(p, hooks, out);
                tokens[0] += p.batch().realTokens();
            }
            batches[0]++;
            double s = (System.nanoTime() - start) / 1e9;
            progress.accept(String.format("batch %d/%d, %d tokens, %.0f tokens/s", batches[0], passes.size(), tokens[0], tokens[0] / s));
        });
        return new Summary(items.size(), tokens[0], batches[0], (System.nanoTime() - start) / 1e9);
    }

    /** Runs one batch, capturing {@code hooks}; the result owns a new sub-manager of the model's, closed once written. */
    private static Pass pass(LanguageModel model, List<Tokenised> chunk, List<HookPoint> hooks) {
        NDManager m = model.manager().newSubManager();
        try {
            TokenBatch batch = TokenBatch.of(m, chunk.stream().map(Tokenised::ids).toList(), 0);
            Hooks h = Hooks.none().capture(hooks);
            return new Pass(chunk, m, batch, model.forward(batch, h), h);
        } catch (RuntimeException | Error e) {
            m.close();
            throw e;
        }
    }

    /** Each prompt's logits and captures, padding cut away. */
    private static void write(Pass p, List<HookPoint> hooks, TensorSink out) {
        for (int b = 0; b < p.chunk().size(); b++) {
            int len = p.batch().lengths()[b];
            String id = p.chunk().get(b).prompt().id();
            out.put(logitsName(id), f32(p.logits().get(new NDIndex("{}, :{}", b, len))));
            for (HookPoint h : hooks) {
                out.put(hookName(id, h), f32(trim(p.hooks().captured(h), h, b, len)));
            }
        }
    }

    /** The tensors {@link #run} puts, in no particular order: {@code <id>.logits} and {@code <id>.<hook>} per prompt. */
    public static List<String> outputNames(List<Prompt> prompts, List<HookPoint> hooks) {
        List<String> names = new ArrayList<>();
        for (Prompt p : prompts) {
            names.add(logitsName(p.id()));
            for (HookPoint h : hooks) {
                names.add(hookName(p.id(), h));
            }
        }
        return names;
    }

    private static String logitsName(String id) {
        return id + ".logits";
    }

    private static String hookName(String id, HookPoint hook) {
        return id + "." + hook;
    }

    /** One example's real positions of a captured activation, batch dimension dropped. */
    static NDArray trim(NDArray activation, HookPoint p, int b, int len) {
        if (p.kind() == HookKind.ATTN_PATTERN) {
            return activation.get(new NDIndex("{}, :, :{}, :{}", b, len, len));
        }
        return activation.get(new NDIndex("{}, :{}", b, len));
    }

    private static NDArray f32(NDArray a) {
        return a.getDataType() == DataType.FLOAT32 ? a : a.toType(DataType.FLOAT32, false);
    }

    private static List<Tokenised> tokenise(LanguageModel model, PromptTokenizer tokenizer, List<Prompt> prompts) {
        int vocab = model.config().vocabSize();
        List<Tokenised> out = new ArrayList<>();
        for (Prompt p : prompts) {
            out.add(new Tokenised(p, p.tokens(tokenizer, vocab)));
        }
        return out;
    }
}
