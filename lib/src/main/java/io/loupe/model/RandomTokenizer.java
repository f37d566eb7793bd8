package io.loupe.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small Llama-style tokenizer for random models: {@code <unk> <s> </s>}, the 256 byte-fallback tokens,
 * then {@code ▁} and printable ASCII characters, then two-character merges until the vocabulary is full.
 * Any text encodes (unknown characters fall back to UTF-8 bytes), so random models run text prompts.
 */
final class RandomTokenizer {
    static final int MIN_VOCAB = 300;
    private static final String CHARS =
            "▁etaoinshrdlucmfwypvbgkjqxzETAOINSHRDLUCMFWYPVBGKJQXZ0123456789.,!?;:'\"-()";

    private RandomTokenizer() {
    }

    static JsonObject tokenizerJson(int vocabSize) {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        vocab.put("<unk>", 0);
        vocab.put("<s>", 1);
        vocab.put("</s>", 2);
        for (int b = 0; b < 256; b++) {
            vocab.put(String.format("<0x%02X>", b), vocab.size());
        }
        List<String> merges = new ArrayList<>();
        for (int i = 0; i < CHARS.length() && vocab.size() < vocabSize; i++) {
            vocab.putIfAbsent(String.valueOf(CHARS.charAt(i)), vocab.size());
        }
        outer:
        for (int i = 0; i < CHARS.length(); i++) {
            for (int j = 1; j < CHARS.length(); j++) {
                if (vocab.size() >= vocabSize) {
                    break outer;
                }
                String a = String.valueOf(CHARS.charAt(i)), b = String.valueOf(CHARS.charAt(j));
                if (vocab.containsKey(a) && vocab.containsKey(b) && vocab.putIfAbsent(a + b, vocab.size()) == null) {
                    merges.add(a + " " + b);
                }
            }
        }
        JsonObject model = new JsonObject();
        model.addProperty("type", "BPE");
        model.add("dropout", JsonNull.INSTANCE);
        model.addProperty("unk_token", "<unk>");
        model.add("continuing_subword_prefix", JsonNull.INSTANCE);
        model.add("end_of_word_suffix", JsonNull.INSTANCE);
        model.addProperty("fuse_unk", true);
        model.addProperty("byte_fallback", true);
        JsonObject v = new JsonObject();
        vocab.forEach(v::addProperty);
        model.add("vocab", v);
        JsonArray m = new JsonArray();
        merges.forEach(m::add);
        model.add("merges", m);

        JsonObject t = new JsonObject();
        t.addProperty("version", "1.0");
        t.add("truncation", JsonNull.INSTANCE);
        t.add("padding", JsonNull.INSTANCE);
        JsonArray added = new JsonArray();
        String[] special = {"<unk>", "<s>", "</s>"};
        for (int i = 0; i < special.length; i++) {
            JsonObject s = new JsonObject();
            s.addProperty("id", i);
            s.addProperty("content", special[i]);
            s.addProperty("single_word", false);
            s.addProperty("lstrip", false);
            s.addProperty("rstrip", false);
            s.addProperty("normalized", false);
            s.addProperty("special", true);
            added.add(s);
        }
        t.add("added_tokens", added);
        t.add("normalizer", normalizer());
        t.add("pre_tokenizer", JsonNull.INSTANCE);
        t.add("post_processor", JsonNull.INSTANCE);
        t.add("decoder", decoder());
        t.add("model", model);
        return t;
    }

    static JsonObject tokenizerConfig() {
        JsonObject c = new JsonObject();
        c.addProperty("bos_token", "<s>");
        c.addProperty("eos_token", "</s>");
        c.addProperty("unk_token", "<unk>");
        c.addProperty("add_bos_token", true);
        c.addProperty("add_eos_token", false);
        c.addProperty("tokenizer_class", "LlamaTokenizer");
        return c;
    }

    private static JsonObject normalizer() {
        JsonObject prepend = new JsonObject();
        prepend.addProperty("type", "Prepend");
        prepend.addProperty("prepend", "▁");
        JsonObject pattern = new JsonObject();
        pattern.addProperty("String", " ");
        JsonObject replace = new JsonObject();
        replace.addProperty("type", "Replace");
        replace.add("pattern", pattern);
        replace.addProperty("content", "▁");
        return sequence("normalizers", prepend, replace);
    }

    private static JsonObject decoder() {
        JsonObject pattern = new JsonObject();
        pattern.addProperty("String", "▁");
        JsonObject replace = new JsonObject();
        replace.addProperty("type", "Replace");
        replace.add("pattern", pattern);
        replace.addProperty("content", " ");
        JsonObject fallback = new JsonObject();
        fallback.addProperty("type", "ByteFallback");
        JsonObject fuse = new JsonObject();
        fuse.addProperty("type", "Fuse");
        JsonObject strip = new JsonObject();
        strip.addProperty("type", "Strip");
        strip.addProperty("content", " ");
        strip.addProperty("start", 1);
        strip.addProperty("stop", 0);
        return sequence("decoders", replace, fallback, fuse, strip);
    }

    private static JsonObject sequence(String key, JsonObject... items) {
        JsonObject s = new JsonObject();
        s.addProperty("type", "Sequence");
        JsonArray a = new JsonArray();
        for (JsonObject i : items) {
            a.add(i);
        }
        s.add(key, a);
        return s;
    }
}
