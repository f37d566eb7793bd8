package io.loupe.model;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.loupe.tensor.InvalidTensorFileException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The shape of a decoder-only transformer and the parts it is built from, read from a Hugging Face
 * {@code config.json} by its family ({@link Family}); construction validates every field.
 *
 * @param architecture      the {@code architectures[0]} entry, e.g. {@code LlamaForCausalLM}; picks the family in {@link ModelRegistry}
 * @param dModel            residual stream width
 * @param dMlp              MLP hidden width
 * @param numLayers         transformer blocks
 * @param numHeads          query heads
 * @param numKvHeads        key/value heads, for grouped-query attention
 * @param dHead             per-head width
 * @param vocabSize         token vocabulary
 * @param tieWordEmbeddings the unembedding reuses the token embedding
 * @param bosTokenId        beginning-of-sequence id, or -1 if the config has none
 * @param eosTokenId        end-of-sequence id, or -1 if the config has none
 * @param parts             norms, positions, MLP, residual form, scales and caps
 */
public record ModelConfig(String architecture, int dModel, int dMlp, int numLayers, int numHeads, int numKvHeads, int dHead, int vocabSize,
                          boolean tieWordEmbeddings, int bosTokenId, int eosTokenId, TransformerParts parts) implements java.io.Serializable {

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
        if (parts.rotaryDims() > dHead) {
            throw new IllegalArgumentException("rotary dimensions (" + parts.rotaryDims() + ") exceed head_dim " + dHead);
        }
    }

    /** A Llama-family config (Qwen2 when {@code qkvBias}): RMSNorm, full rotary, a gated MLP. */
    public static ModelConfig llama(String architecture, int dModel, int dMlp, int numLayers, int numHeads, int numKvHeads, int dHead, int vocabSize,
                                    double rmsNormEps, double ropeTheta, boolean tied, boolean qkvBias, int bos, int eos, MlpActivation act) {
        return new ModelConfig(architecture, dModel, dMlp, numLayers, numHeads, numKvHeads, dHead, vocabSize, tied, bos, eos,
                TransformerParts.llama(dHead, rmsNormEps, ropeTheta, act, qkvBias));
    }

    private static void requirePositive(String name, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException("config field " + name + " must be > 0, got " + v);
        }
    }

    /** The MLP activation. */
    public MlpActivation hiddenAct() {
        return parts.act();
    }

    /** The same model with another MLP activation (ReLU-fication). */
    public ModelConfig withHiddenAct(MlpActivation act) {
        return new ModelConfig(architecture, dModel, dMlp, numLayers, numHeads, numKvHeads, dHead, vocabSize, tieWordEmbeddings, bosTokenId,
                eosTokenId, parts.withAct(act));
    }

    /** Reads {@code config.json}; settings a family does not implement are refused by name, never ignored. */
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

    /** Parses config.json's fields with the family {@code architectures[0]} names; {@code configJson} names the file in errors. */
    public static ModelConfig fromJson(JsonObject c, Path configJson) {
        String arch = c.has("architectures") && c.getAsJsonArray("architectures").size() > 0
                ? c.getAsJsonArray("architectures").get(0).getAsString()
                : ConfigJson.str(c, "model_type", "(none)");
        try {
            return ModelRegistry.family(arch).parse(c, arch);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(configJson + ": " + e.getMessage(), e);
        }
    }

    /** The config as Hugging Face writes it ({@code config.json} fields), for models Loupe creates. */
    public JsonObject toJson() {
        return ModelRegistry.family(architecture).toJson(this);
    }

    /** Query heads that share one key/value head. */
    public int groupSize() {
        return numHeads / numKvHeads;
    }
}
