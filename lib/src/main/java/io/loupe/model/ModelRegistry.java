package io.loupe.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import java.util.Map;
import java.util.TreeMap;

/** Hugging Face {@code architectures} names to the class that implements them. */
public final class ModelRegistry {

    /** One architecture: the weights it reads and how to build it from them. */
    public interface Architecture {
        /** Tensor name to expected shape, derived from the config. */
        Map<String, long[]> expectedTensors(ModelConfig config);

        /** Builds the model; the weights are already checked against {@link #expectedTensors}. */
        LanguageModel build(ModelConfig config, Map<String, NDArray> weights, NDManager manager);
    }

    private static final Architecture LLAMA = new Architecture() {
        @Override
        public Map<String, long[]> expectedTensors(ModelConfig config) {
            return LlamaModel.expectedTensors(config);
        }

        @Override
        public LanguageModel build(ModelConfig config, Map<String, NDArray> weights, NDManager manager) {
            return new LlamaModel(config, weights, manager);
        }
    };

    private static final Map<String, Architecture> ARCHITECTURES = new TreeMap<>(Map.of(
            "LlamaForCausalLM", LLAMA,
            "Qwen2ForCausalLM", LLAMA));   // Llama with q/k/v bias; ModelConfig sets attentionBias for it

    private ModelRegistry() {
    }

    /** The architecture for a config name; the error names it and lists the supported ones. */
    public static Architecture lookup(String name) {
        Architecture a = ARCHITECTURES.get(name);
        if (a == null) {
            throw new IllegalArgumentException("unsupported architecture '" + name + "'; supported: "
                    + String.join(", ", ARCHITECTURES.keySet()));
        }
        return a;
    }
}
