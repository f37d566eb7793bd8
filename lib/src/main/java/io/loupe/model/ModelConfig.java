package io.loupe.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.loupe.tensor.InvalidTensorFileException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The shape of a decoder-only transformer, read from a Hugging Face {@code config.json}.
 * Defaults follow Hugging Face's own for the Llama family; construction validates every field.
 *
 * @param architecture      the {@code architectures[0]} entry, e.g. {@code LlamaForCausalLM}; picks the class in {@link ModelRegistry}
 * @param dModel            residual stream width ({@code hidden_size})
 * @param dMlp              MLP hidden width ({@code intermediate_size})
 * @param numLayers         transformer blocks ({@code num_hidden_layers})
 * @param numHeads          query heads ({@code num_attention_heads})
 * @param numKvHeads        key/value heads, for grouped-query attention ({@code num_key_value_heads}, default numHeads)
 * @param dHead             per-head width ({@code head_dim}, default dModel / numHeads)
 * @param vocabSize         token vocabulary ({@code vocab_size})
 * @param rmsNormEps        epsilon inside RMSNorm's square root ({@code rms_norm_eps})
 * @param ropeTheta         rotary base ({@code rope_theta}, default 10000)
 * @param tieWordEmbeddings the unembedding reuses {@code embed_tokens} ({@code tie_word_embeddings})
 * @param attentionBias     q/k/v projections carry a bias ({@code attention_bias}; always true for Qwen2)
 * @param bosTokenId        beginning-of-sequence id, or -1 if the config has none
 * @param eosTokenId        end-of-sequence id, or -1 if the config has none
 * @param hiddenAct         the MLP activation ({@code hidden_act}, default silu), applied to the gate
 */
public record ModelConfig(
        String architecture,
        int dModel,
        int dMlp,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int dHead,
        int vocabSize,
        double rmsNormEps,
        double ropeTheta,
        boolean tieWordEmbeddings,
        boolean attentionBias,
        int bosTokenId,
        int eosTokenId,
        MlpActivation hiddenAct) implements java.io.Serializable {

    public ModelConfig {
        requirePositive("hidden_size", dModel);
        requirePositive("intermediate_size", dMlp);
        requirePositive("num_hidden_layers", numLayers);
        requirePositive("num_attention_heads", numHeads);
        requirePositive("num_key_value_heads", numKvHeads);
        requirePositive("head_dim", dHead);
        requirePositive("vocab_size", vocabSize);
        if (numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads (" + numHeads + ") must be a multiple of num_key_value_heads ("
                    + numKvHeads + ")");
        }
        if (dHead % 2 != 0) {
            throw new IllegalArgumentException("head_dim must be even for rotary embeddings, got " + dHead);
        }
        if (!(rmsNormEps > 0) || !(ropeTheta > 0)) {
            throw new IllegalArgumentException("rms_norm_eps and rope_theta must be > 0");
        }
    }

    private static void requirePositive(String name, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException("config field " + name + " must be > 0, got " + v);
        }
    }

    /** The same shape with another MLP activation (ReLU-fication). */
    public ModelConfig withHiddenAct(MlpActivation act) {
        return new ModelConfig(architecture, dModel, dMlp, numLayers, numHeads, numKvHeads, dHead, vocabSize, rmsNormEps, ropeTheta,
                tieWordEmbeddings, attentionBias, bosTokenId, eosTokenId, act);
    }

    /** Reads {@code config.json}; unsupported settings (rope scaling, unknown activations) are refused, not ignored. */
    public static ModelConfig read(Path configJson) throws IOException {
        if (!Files.isRegularFile(configJson)) {
            throw new InvalidTensorFileException(configJson + ": missing config.json (a Hugging Face model directory has one)");
        }
        JsonObject c;
        try {
            c = JsonParser.parseString(Files.readString(configJson)).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new InvalidTensorFileException(configJson + ": not valid JSON (" + e.getMessage() + ")");
        }
        return fromJson(c, configJson);
    }

    /** Parses config.json's fields; {@code configJson} names the file in errors. */
    public static ModelConfig fromJson(JsonObject c, Path configJson) {
        String arch = c.has("architectures") && c.getAsJsonArray("architectures").size() > 0
                ? c.getAsJsonArray("architectures").get(0).getAsString()
                : str(c, "model_type", "(none)");
        MlpActivation act;
        try {
            act = MlpActivation.parse(str(c, "hidden_act", "silu"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(configJson + ": " + e.getMessage());
        }
        if (c.has("rope_scaling") && !c.get("rope_scaling").isJsonNull()) {
            throw new IllegalArgumentException(configJson + ": rope_scaling " + c.get("rope_scaling")
                    + " is not supported yet; refusing rather than computing different positions");
        }
        int dModel = integer(c, "hidden_size", configJson);
        int heads = integer(c, "num_attention_heads", configJson);
        boolean qwen2 = arch.startsWith("Qwen2");
        return new ModelConfig(
                arch,
                dModel,
                integer(c, "intermediate_size", configJson),
                integer(c, "num_hidden_layers", configJson),
                heads,
                c.has("num_key_value_heads") ? c.get("num_key_value_heads").getAsInt() : heads,
                c.has("head_dim") && !c.get("head_dim").isJsonNull() ? c.get("head_dim").getAsInt() : dModel / Math.max(heads, 1),
                integer(c, "vocab_size", configJson),
                c.has("rms_norm_eps") ? c.get("rms_norm_eps").getAsDouble() : 1e-6,
                c.has("rope_theta") ? c.get("rope_theta").getAsDouble() : 10000.0,
                c.has("tie_word_embeddings") && c.get("tie_word_embeddings").getAsBoolean(),
                qwen2 || (c.has("attention_bias") && c.get("attention_bias").getAsBoolean()),
                optionalId(c, "bos_token_id"),
                optionalId(c, "eos_token_id"),
                act);
    }

    private static int integer(JsonObject c, String key, Path file) {
        if (!c.has(key) || c.get(key).isJsonNull()) {
            throw new IllegalArgumentException(file + ": missing field " + key);
        }
        return c.get(key).getAsInt();
    }

    private static String str(JsonObject c, String key, String dflt) {
        return c.has(key) && !c.get(key).isJsonNull() ? c.get(key).getAsString() : dflt;
    }

    private static int optionalId(JsonObject c, String key) {
        JsonElement e = c.get(key);
        if (e == null || e.isJsonNull()) {
            return -1;
        }
        return e.isJsonArray() ? e.getAsJsonArray().get(0).getAsInt() : e.getAsInt();
    }

    /** The config as Hugging Face writes it ({@code config.json} fields), for models Loupe creates. */
    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        com.google.gson.JsonArray archs = new com.google.gson.JsonArray();
        archs.add(architecture);
        o.add("architectures", archs);
        o.addProperty("model_type", architecture.startsWith("Qwen2") ? "qwen2" : "llama");
        o.addProperty("hidden_size", dModel);
        o.addProperty("intermediate_size", dMlp);
        o.addProperty("num_hidden_layers", numLayers);
        o.addProperty("num_attention_heads", numHeads);
        o.addProperty("num_key_value_heads", numKvHeads);
        o.addProperty("head_dim", dHead);
        o.addProperty("vocab_size", vocabSize);
        o.addProperty("max_position_embeddings", 2048);
        o.addProperty("rms_norm_eps", rmsNormEps);
        o.addProperty("rope_theta", ropeTheta);
        o.addProperty("hidden_act", hiddenAct.hfName());
        o.addProperty("tie_word_embeddings", tieWordEmbeddings);
        o.addProperty("attention_bias", attentionBias);
        o.addProperty("bos_token_id", bosTokenId);
        o.addProperty("eos_token_id", eosTokenId);
        return o;
    }

    /** Query heads that share one key/value head. */
    public int groupSize() {
        return numHeads / numKvHeads;
    }
}
