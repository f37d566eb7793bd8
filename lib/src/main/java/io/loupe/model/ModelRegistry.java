package io.loupe.model;

import java.util.Map;
import java.util.TreeMap;

/** Hugging Face {@code architectures} names to the family that reads them; every family builds the one {@link Transformer}. */
public final class ModelRegistry {
    private static final Map<String, Family> FAMILIES = new TreeMap<>(Map.of(
            "LlamaForCausalLM", new LlamaFamily(),
            "Qwen2ForCausalLM", new LlamaFamily(),   // Llama with q/k/v bias
            "GPT2LMHeadModel", new Gpt2Family(),
            "GPTNeoXForCausalLM", new NeoxFamily(),
            "Gemma2ForCausalLM", new Gemma2Family()));

    private ModelRegistry() {
    }

    /** The family for a config name; the error names it and lists the supported ones. */
    public static Family family(String name) {
        Family f = FAMILIES.get(name);
        if (f == null) {
            throw new IllegalArgumentException("unsupported architecture '" + name + "'; supported: " + String.join(", ", FAMILIES.keySet()));
        }
        return f;
    }
}
