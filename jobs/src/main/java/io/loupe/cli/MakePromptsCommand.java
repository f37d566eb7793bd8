package io.loupe.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.loupe.model.Generator;
import io.loupe.model.LanguageModel;
import io.loupe.model.ModelLoader;
import io.loupe.model.Runtime;
import io.loupe.tokenize.PromptTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code loupe make-prompts}: a prompt dataset sampled from the model itself, for offline pipelines and benchmarks. */
@Command(name = "make-prompts", mixinStandardHelpOptions = true,
        description = {"Samples texts from a model (from BOS, at a temperature) and writes them as JSONL prompts with",
                "id, text and token_ids: a corpus in the model's own distribution, with no download."})
final class MakePromptsCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Model directory.")
    Path model;
    @Option(names = "--count", defaultValue = "256", description = "Prompts (default: ${DEFAULT-VALUE}).")
    int count;
    @Option(names = "--tokens", defaultValue = "128", description = "Sampled tokens per prompt (default: ${DEFAULT-VALUE}).")
    int tokens;
    @Option(names = "--temperature", defaultValue = "1.0", description = "Sampling temperature (default: ${DEFAULT-VALUE}).")
    double temperature;
    @Option(names = "--seed", defaultValue = "0", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--batch-size", defaultValue = "64", description = "Texts sampled together, one cached decoding step each (default: ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--out", required = true, description = "Output JSONL.")
    Path out;

    @Override
    public Integer call() throws Exception {
        try (LanguageModel m = ModelLoader.load(model, Runtime.device("auto"))) {
            write(m, model, count, tokens, temperature, seed, batchSize, out);
        }
        Console.info("make-prompts: wrote " + out);
        return 0;
    }

    /** Samples {@code count} texts of {@code tokens} tokens from BOS and writes them as JSONL (id, text, token_ids). */
    static void write(LanguageModel m, Path modelDir, int count, int tokens, double temperature, long seed, int batchSize, Path out)
            throws java.io.IOException {
        if (count < 1 || tokens < 1 || batchSize < 1) {
            throw new IllegalArgumentException("--count, --tokens and --batch-size must be >= 1");
        }
        if (out.toAbsolutePath().getParent() != null) {
            Files.createDirectories(out.toAbsolutePath().getParent());
        }
        try (PromptTokenizer tok = PromptTokenizer.load(modelDir, m.config()); BufferedWriter w = Files.newBufferedWriter(out)) {
            long[] bos = {m.config().bosTokenId()};
            int written = 0;
            for (int from = 0; from < count; from += batchSize) {
                for (long[] s : Generator.sample(m, bos, Math.min(batchSize, count - from), tokens, temperature, seed + from)) {
                    JsonObject o = new JsonObject();
                    o.addProperty("id", "s" + written);
                    o.addProperty("text", tok.decode(s));
                    JsonArray ids = new JsonArray();
                    for (long t : s) {
                        ids.add(t);
                    }
                    o.add("token_ids", ids);
                    w.write(o + "\n");
                    written++;
                }
                Console.info("make-prompts: " + written + "/" + count);
            }
        }
    }
}
