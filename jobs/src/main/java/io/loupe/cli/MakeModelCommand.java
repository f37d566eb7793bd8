package io.loupe.cli;

import io.loupe.model.RandomModelWriter;
import io.loupe.tensor.TensorDtype;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code loupe make-model}: a random Llama-family model in Hugging Face layout. */
@Command(name = "make-model", mixinStandardHelpOptions = true,
        description = "Writes a random-init Llama-family model (config.json, safetensors, tokenizer.json) for tests and benchmarks.")
final class MakeModelCommand implements Callable<Integer> {
    @Option(names = "--layers", defaultValue = "2", description = "Transformer blocks (default: ${DEFAULT-VALUE}).")
    int layers;
    @Option(names = "--d-model", defaultValue = "64", description = "Residual width (default: ${DEFAULT-VALUE}).")
    int dModel;
    @Option(names = "--heads", defaultValue = "4", description = "Query heads (default: ${DEFAULT-VALUE}).")
    int heads;
    @Option(names = "--kv-heads", description = "Key/value heads (default: same as --heads).")
    Integer kvHeads;
    @Option(names = "--d-mlp", defaultValue = "172", description = "MLP width (default: ${DEFAULT-VALUE}).")
    int dMlp;
    @Option(names = "--vocab", defaultValue = "512", description = "Vocabulary; >= 300 also writes a tokenizer (default: ${DEFAULT-VALUE}).")
    int vocab;
    @Option(names = "--seed", defaultValue = "0", description = "Weight seed (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--tied", description = "Tie the unembedding to the embedding.")
    boolean tied;
    @Option(names = "--qkv-bias", description = "Add q/k/v biases (architecture Qwen2ForCausalLM; llama only).")
    boolean qkvBias;
    @Option(names = "--architecture", defaultValue = "llama", description = {"Family: llama (LlamaForCausalLM), gpt2 (GPT2LMHeadModel),",
            "neox (GPTNeoXForCausalLM, parallel residual, rotary on a quarter of each head), gemma2 (Gemma2ForCausalLM) (default: ${DEFAULT-VALUE})."})
    String architecture;
    @Option(names = "--dtype", defaultValue = "F32", description = "Stored weights: F32, F16 or BF16 (default: ${DEFAULT-VALUE}).")
    String dtype;
    @Option(names = "--shards", defaultValue = "1", description = "Safetensors shards; > 1 writes model.safetensors.index.json.")
    int shards;
    @Option(names = "--out", required = true, description = "Output directory.")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (dModel % heads != 0) {
            throw new IllegalArgumentException("--d-model (" + dModel + ") must be a multiple of --heads (" + heads + ")");
        }
        RandomModelWriter w = new RandomModelWriter(layers, dModel, heads, kvHeads == null ? heads : kvHeads, dMlp, vocab, seed,
                tied, qkvBias, TensorDtype.valueOf(dtype.toUpperCase()), shards, architecture.equals("gemma") ? "gemma2" : architecture);
        w.config();   // validates the shape before writing anything
        w.write(out);
        Console.info("make-model: " + w.config().architecture() + ", " + layers + " layers, d " + dModel + ", " + heads + " heads, d_mlp " + dMlp
                + ", vocab " + vocab + " -> " + out);
        return 0;
    }
}
