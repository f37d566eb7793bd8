package io.loupe.model;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import io.loupe.tensor.SafetensorsWriter;
import io.loupe.tensor.TensorDtype;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a random-init model of any supported family in its Hugging Face layout, so tests and benchmarks never need
 * a download. Weights come from {@link ModelInit} (N(0, 0.02) like the Hugging Face initialiser, norm gains at their
 * neutral value; biases are drawn too, so tests see them) and are written by the family ({@link Family#toFile}). The
 * tokenizer is a byte-fallback BPE over single characters and a few merges (needs vocab >= 300; smaller models get none).
 *
 * @param layers     transformer blocks
 * @param dModel     residual width
 * @param heads      query heads
 * @param kvHeads    key/value heads (must divide heads)
 * @param dMlp       MLP width
 * @param vocab      vocabulary size
 * @param seed       seed of the weight generator
 * @param tied       tie the unembedding to the embedding
 * @param qkvBias    Llama family only: write q/k/v biases and call the architecture Qwen2ForCausalLM
 * @param dtype      stored weight type: F32, F16 or BF16
 * @param shards     1 for model.safetensors, more for a sharded index
 * @param family     llama (default), gpt2, neox (parallel residual, rotary on a quarter of each head) or gemma2
 */
public record RandomModelWriter(int layers, int dModel, int heads, int kvHeads, int dMlp, int vocab, long seed,
                                boolean tied, boolean qkvBias, TensorDtype dtype, int shards, String family) {

    /** A Llama-family model (Qwen2 with {@code qkvBias}). */
    public RandomModelWriter(int layers, int dModel, int heads, int kvHeads, int dMlp, int vocab, long seed, boolean tied, boolean qkvBias,
                             TensorDtype dtype, int shards) {
        this(layers, dModel, heads, kvHeads, dMlp, vocab, seed, tied, qkvBias, dtype, shards, "llama");
    }

    public RandomModelWriter {
        if (dtype != TensorDtype.F32 && dtype != TensorDtype.F16 && dtype != TensorDtype.BF16) {
            throw new IllegalArgumentException("weights dtype must be F32, F16 or BF16, got " + dtype);
        }
        if (shards < 1) {
            throw new IllegalArgumentException("shards must be >= 1");
        }
    }

    public ModelConfig config() {
        int dHead = dModel / heads;
        return switch (family) {
            case "llama" -> ModelConfig.llama(qkvBias ? "Qwen2ForCausalLM" : "LlamaForCausalLM", dModel, dMlp, layers, heads, kvHeads, dHead, vocab,
                    1e-5, 10000.0, tied, qkvBias, 1, 2, MlpActivation.SILU);
            case "gpt2" -> new ModelConfig("GPT2LMHeadModel", dModel, dMlp, layers, heads, heads, dHead, vocab, tied, 1, 2,
                    new TransformerParts(NormKind.LAYER_NORM, 1e-5, true, 0, 10000, 1024, false, MlpActivation.GELU_TANH, true, true, true, false,
                            false, 1 / Math.sqrt(dHead), false, 0, 0, 0, List.of(), 1f));
            case "neox" -> new ModelConfig("GPTNeoXForCausalLM", dModel, dMlp, layers, heads, heads, dHead, vocab, tied, 1, 2,
                    new TransformerParts(NormKind.LAYER_NORM, 1e-5, false, dHead / 4 / 2 * 2, 10000, 0, false, MlpActivation.GELU, true, true, true,
                            true, false, 1 / Math.sqrt(dHead), false, 0, 0, 0, List.of(), 1f));
            case "gemma2" -> {
                List<Integer> sliding = new ArrayList<>();
                for (int l = 0; l < layers; l += 2) {
                    sliding.add(l);
                }
                yield new ModelConfig("Gemma2ForCausalLM", dModel, dMlp, layers, heads, kvHeads, dHead, vocab, tied, 1, 2,
                        new TransformerParts(NormKind.RMS_ONE_PLUS, 1e-6, false, dHead, 10000, 0, true, MlpActivation.GELU_TANH, false, false, false,
                                false, true, 1 / Math.sqrt(dHead), false, 50, 30, 4096, sliding, (float) Math.sqrt(dModel)));
            }
            default -> throw new IllegalArgumentException("unknown family '" + family + "': llama, gpt2, neox or gemma2");
        };
    }

    public void write(Path dir) throws IOException {
        ModelConfig cfg = config();
        Files.createDirectories(dir);
        Family fam = ModelRegistry.family(cfg.architecture());
        List<SafetensorsWriter> files = new ArrayList<>();
        for (int i = 0; i < shards; i++) {
            files.add(new SafetensorsWriter().metadata("format", "pt"));
        }
        Map<String, String> weightMap = new TreeMap<>();
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            Map<String, ai.djl.ndarray.NDArray> file = fam.toFile(cfg, ModelInit.randomParameters(cfg, seed, ModelInit.DEFAULT_STD, true, m));
            int i = 0;
            for (var e : file.entrySet()) {
                int shard = i++ * shards / file.size();
                files.get(shard).put(e.getKey(), SafetensorsWriter.HostTensor.of(e.getValue(), dtype));
                weightMap.put(e.getKey(), shardName(shard));
            }
            if (shards == 1) {
                files.get(0).write(dir.resolve("model.safetensors"));
            } else {
                for (int s = 0; s < shards; s++) {
                    files.get(s).write(dir.resolve(shardName(s)));
                }
                JsonObject index = new JsonObject();
                index.add("metadata", new JsonObject());
                index.add("weight_map", new GsonBuilder().create().toJsonTree(weightMap));
                Files.writeString(dir.resolve("model.safetensors.index.json"), pretty(index));
            }
        }
        Files.writeString(dir.resolve("config.json"), pretty(configJson(cfg)));
        if (vocab >= RandomTokenizer.MIN_VOCAB) {
            Files.writeString(dir.resolve("tokenizer.json"), pretty(RandomTokenizer.tokenizerJson(vocab)));
            Files.writeString(dir.resolve("tokenizer_config.json"), pretty(RandomTokenizer.tokenizerConfig()));
        }
    }

    private String shardName(int s) {
        return shards == 1 ? "model.safetensors" : String.format("model-%05d-of-%05d.safetensors", s + 1, shards);
    }

    private JsonObject configJson(ModelConfig c) {
        JsonObject o = c.toJson();
        o.addProperty("torch_dtype", Map.of(TensorDtype.F32, "float32", TensorDtype.F16, "float16", TensorDtype.BF16, "bfloat16")
                .get(dtype));
        o.addProperty("seed", seed);
        return o;
    }

    static String pretty(JsonObject o) {
        return new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().create().toJson(o) + "\n";
    }
}
