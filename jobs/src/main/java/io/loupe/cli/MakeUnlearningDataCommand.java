package io.loupe.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import io.loupe.model.ModelConfig;
import io.loupe.model.ModelLoader;
import io.loupe.tokenize.PromptTokenizer;
import io.loupe.unlearn.FactWorld;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code loupe make-unlearning-data}: a TOFU-like set of fictitious facts, split into forget, retain and holdout. */
@Command(name = "make-unlearning-data", mixinStandardHelpOptions = true,
        description = {"Writes a TOFU-like unlearning fixture in the model's own vocabulary: invented characters, each with six facts",
                "(pet, town, favourite food, best friend, favourite toy, favourite colour) as story text (prompt + gt, for VerbMem)",
                "and as question/answer rows (question, answer, paraphrased_answer, four perturbed_answers). Characters are split",
                "into forget.jsonl, retain.jsonl and holdout.jsonl (never trained on); facts.json lists them. Deterministic per seed."})
final class MakeUnlearningDataCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "The model whose tokenizer must read every row (its directory).")
    Path model;
    @Option(names = "--characters", defaultValue = "50", description = "Invented characters in all (default: ${DEFAULT-VALUE}).")
    int characters;
    @Option(names = "--forget-fraction", defaultValue = "0.1", description = "Share of characters to forget (default: ${DEFAULT-VALUE}).")
    double forgetFraction;
    @Option(names = "--holdout-fraction", defaultValue = "0.1", description = "Share never trained on (default: ${DEFAULT-VALUE}).")
    double holdoutFraction;
    @Option(names = "--seed", defaultValue = "0", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--out", required = true, description = "Output folder: forget.jsonl, retain.jsonl, holdout.jsonl, facts.json.")
    Path out;

    @Override
    public Integer call() throws Exception {
        FactWorld.Splits s = FactWorld.generate(characters, forgetFraction, holdoutFraction, seed);
        ModelConfig cfg = ModelLoader.inspect(model);
        Files.createDirectories(out);
        Gson gson = new GsonBuilder().disableHtmlEscaping().create();
        long tokens = 0;
        try (PromptTokenizer tok = PromptTokenizer.load(model, cfg)) {
            for (var e : Map.of("forget", s.forget(), "retain", s.retain(), "holdout", s.holdout()).entrySet()) {
                tokens += write(out.resolve(e.getKey() + ".jsonl"), e.getValue(), tok, cfg, gson);
            }
        }
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("seed", seed);
        facts.put("forget", s.forgetCharacters());
        facts.put("retain", s.retainCharacters());
        facts.put("holdout", s.holdoutCharacters());
        Files.writeString(out.resolve("facts.json"), new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(facts) + "\n");
        Console.info(String.format("make-unlearning-data: %d forget, %d retain, %d holdout characters (%d, %d, %d rows; %d tokens) -> %s",
                s.forgetCharacters().size(), s.retainCharacters().size(), s.holdoutCharacters().size(), s.forget().size(), s.retain().size(),
                s.holdout().size(), tokens, out));
        return 0;
    }

    /** Writes rows as JSONL (atomically), checking each text tokenises inside the vocabulary; returns the tokens. */
    private static long write(Path file, List<Map<String, Object>> rows, PromptTokenizer tok, ModelConfig cfg, Gson gson) throws java.io.IOException {
        long tokens = 0;
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (BufferedWriter w = Files.newBufferedWriter(tmp)) {
            for (Map<String, Object> r : rows) {
                String text = r.containsKey("text") ? (String) r.get("text") : r.get("question") + " " + r.get("answer");
                for (long t : tok.encode(text)) {
                    if (t >= cfg.vocabSize()) {
                        throw new IllegalStateException("row " + r.get("id") + " tokenises outside the vocabulary");
                    }
                    tokens++;
                }
                w.write(gson.toJson(r));
                w.write("\n");
            }
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return tokens;
    }
}
