package io.loupe.tokenize;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.loupe.model.ModelConfig;
import io.loupe.model.Runtime;
import io.loupe.tensor.InvalidTensorFileException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A model's {@code tokenizer.json} (Hugging Face tokenizers, through DJL's bundled native library),
 * with BOS handled as {@code tokenizer_config.json} says: if it sets {@code add_bos_token}, that decides
 * (with the id from {@code config.json}); otherwise the tokenizer's own post-processor does.
 * Never truncates or pads: batching does that.
 */
public final class PromptTokenizer implements AutoCloseable {
    private final HuggingFaceTokenizer tokenizer;
    private final Boolean addBos;
    private final long bosId;

    private PromptTokenizer(HuggingFaceTokenizer tokenizer, Boolean addBos, long bosId) {
        this.tokenizer = tokenizer;
        this.addBos = addBos;
        this.bosId = bosId;
    }

    public static PromptTokenizer load(Path modelDir, ModelConfig config) throws IOException {
        Path json = modelDir.resolve("tokenizer.json");
        if (!Files.isRegularFile(json)) {
            throw new InvalidTensorFileException(modelDir + ": no tokenizer.json; give prompts as token_ids instead of text");
        }
        Boolean addBos = null;
        Path cfg = modelDir.resolve("tokenizer_config.json");
        if (Files.isRegularFile(cfg)) {
            JsonObject c = JsonParser.parseString(Files.readString(cfg)).getAsJsonObject();
            if (c.has("add_bos_token") && !c.get("add_bos_token").isJsonNull()) {
                addBos = c.get("add_bos_token").getAsBoolean();
            }
        }
        if (Boolean.TRUE.equals(addBos) && config.bosTokenId() < 0) {
            throw new IllegalArgumentException(cfg + " asks for a BOS token but config.json has no bos_token_id");
        }
        Runtime.engine();   // sets the offline switch before DJL looks for the tokenizers library
        HuggingFaceTokenizer t = HuggingFaceTokenizer.newInstance(json,
                Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "false"));
        return new PromptTokenizer(t, addBos, config.bosTokenId());
    }

    /** Token ids of {@code text}, BOS first where the tokenizer config asks for it. */
    public long[] encode(String text) {
        if (addBos == null) {
            return tokenizer.encode(text, true, false).getIds();
        }
        long[] ids = tokenizer.encode(text, false, false).getIds();
        if (!addBos) {
            return ids;
        }
        long[] out = new long[ids.length + 1];
        out[0] = bosId;
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }

    /**
     * The single token that {@code continuation} adds after {@code prefix} (e.g. " Mary" after "... gave it to"),
     * found as the difference of the two encodings, so tokenizers that merge across the boundary or prepend
     * a space are handled; throws when it is not exactly one token.
     */
    public long continuationToken(String prefix, String continuation) {
        long[] a = encode(prefix), b = encode(prefix + continuation);
        if (b.length != a.length + 1 || !java.util.Arrays.equals(a, 0, a.length, b, 0, a.length)) {
            throw new IllegalArgumentException("'" + continuation + "' after '" + prefix + "' is not a single token ("
                    + (b.length - a.length) + " tokens added)");
        }
        return b[a.length];
    }

    /** Text of {@code ids}, special tokens skipped. */
    public String decode(long[] ids) {
        return tokenizer.decode(ids, true);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
