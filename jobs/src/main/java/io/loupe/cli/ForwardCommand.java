package io.loupe.cli;

import io.loupe.forward.ForwardRunner;
import io.loupe.forward.Prompt;
import io.loupe.forward.PromptReader;
import io.loupe.hooks.HookPoint;
import io.loupe.model.LanguageModel;
import io.loupe.model.ModelLoader;
import io.loupe.model.Runtime;
import io.loupe.tensor.SafetensorsStream;
import io.loupe.tokenize.PromptTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code loupe forward}: logits and hook activations per prompt, to one safetensors file. */
@Command(name = "forward", mixinStandardHelpOptions = true,
        description = {"Runs a model over prompts and writes <id>.logits [seq, vocab] and <id>.<hook> (batch dimension dropped)",
                "as float32 safetensors: the layout of ../shared/testvectors/*/reference.safetensors."})
final class ForwardCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Hugging Face model directory (config.json, *.safetensors, tokenizer.json).")
    Path model;

    @Option(names = "--prompts", required = true, description = "JSONL, one {\"id\", \"text\"} or {\"id\", \"token_ids\"} per line.")
    Path prompts;

    @Option(names = "--hooks", defaultValue = "", description = "Comma-separated hook points, e.g. blocks.3.hook_resid_post,blocks.3.mlp.hook_post.")
    String hooks;

    @Option(names = "--out", required = true, description = "Output .safetensors file.")
    Path out;

    @Option(names = "--batch-size", defaultValue = "8", description = "Sequences per forward pass (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--device", defaultValue = "auto", description = "cpu, gpu, gpu:N or auto (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--workers", defaultValue = "0", description = {"Batches run side by side, each on its share of the cores;",
            "0 = automatic: one per libtorch thread on a CPU (at most one per batch), one on a GPU (default: ${DEFAULT-VALUE})."})
    int workers;

    @Override
    public Integer call() throws Exception {
        if (workers < 0) {
            throw new IllegalArgumentException("--workers must be >= 0 (0: automatic), got " + workers);
        }
        List<HookPoint> points = HookPoint.parseList(hooks);
        List<Prompt> list = PromptReader.readJsonl(prompts);
        try (LanguageModel m = ModelLoader.load(model, Runtime.device(device))) {
            run(m, model, list, points, batchSize, workers, out);
        }
        return 0;
    }

    /** Runs the prompts through a loaded model and writes the safetensors file; shared with {@code demo}. */
    static void run(LanguageModel m, Path modelDir, List<Prompt> list, List<HookPoint> points, int batchSize, int workers, Path out)
            throws java.io.IOException {
        long start = System.nanoTime();
        m.validate(points);
        boolean needsTokenizer = list.stream().anyMatch(p -> p.tokenIds() == null);
        List<String> names = ForwardRunner.outputNames(list, points);
        Map<String, String> metadata = Map.of("model", modelDir.toAbsolutePath().toString(),
                "hooks", String.join(",", points.stream().map(HookPoint::name).toList()));
        try (PromptTokenizer tok = needsTokenizer ? PromptTokenizer.load(modelDir, m.config()) : null;
             SafetensorsStream stream = new SafetensorsStream(out, names, metadata)) {
            ForwardRunner.Summary s = ForwardRunner.run(m, tok, list, points, batchSize, workers, stream, Console::info);
            stream.finish();
            Console.info(String.format("forward: %d prompts, %d tokens, %d hooks, %d tensors -> %s (%.1f MB) in %.1f s"
                            + " (%.0f tokens/s in forward passes)", s.prompts(), s.tokens(), points.size(), names.size(),
                    out, Files.size(out) / 1e6, (System.nanoTime() - start) / 1e9, s.tokensPerSecond()));
        }
    }
}
