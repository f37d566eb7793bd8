package io.loupe.circuits;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.loupe.tokenize.PromptTokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads a task dataset from JSONL, one example per line:
 * <pre>
 * {"id": "ex1", "clean": "When Mary and John ...", "corrupt": "When Mary and John ...", "answer": " Mary", "wrong": " John"}
 * {"id": "ex2", "clean": [1, 45, 9], "corrupt": [1, 46, 9], "answer": 12, "wrong": 13, "answer_pos": -1}
 * </pre>
 * {@code clean}/{@code corrupt} are text or token ids; {@code answer}/{@code wrong} are token ids, or text that
 * must add exactly one token after the clean text (so text answers need a text prompt);
 * {@code answer_pos} defaults to the last position and counts from the end when negative; {@code id}
 * defaults to {@code row-N}. Errors name the file and line.
 */
public final class TaskReader {
    private TaskReader() {
    }

    /** @param tok the model's tokenizer; may be null when every field is given as ids */
    public static List<TaskExample> read(Path file, PromptTokenizer tok, int vocab) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + ": task file does not exist (use induction, ioi or a JSONL file)");
        }
        List<TaskExample> out = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        int n = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            n++;
            if (line.isBlank()) {
                continue;
            }
            TaskExample e;
            try {
                e = parse(JsonParser.parseString(line).getAsJsonObject(), n, tok);
                e.validate(vocab);
            } catch (RuntimeException ex) {
                throw new IllegalArgumentException(file + ":" + n + ": " + ex.getMessage(), ex);
            }
            if (!ids.add(e.id())) {
                throw new IllegalArgumentException(file + ":" + n + ": duplicate id '" + e.id() + "'");
            }
            out.add(e);
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(file + ": no examples");
        }
        return out;
    }

    private static TaskExample parse(JsonObject o, int line, PromptTokenizer tok) {
        for (String f : new String[]{"clean", "corrupt", "answer", "wrong"}) {
            if (!o.has(f)) {
                throw new IllegalArgumentException("missing '" + f + "'");
            }
        }
        String id = o.has("id") ? o.get("id").getAsString() : "row-" + line;
        long[] clean = tokens(o.get("clean"), tok, "clean");
        long[] corrupt = tokens(o.get("corrupt"), tok, "corrupt");
        String cleanText = o.get("clean").isJsonPrimitive() ? o.get("clean").getAsString() : null;
        long answer = token(o.get("answer"), cleanText, tok, "answer");
        long wrong = token(o.get("wrong"), cleanText, tok, "wrong");
        int pos = o.has("answer_pos") ? o.get("answer_pos").getAsInt() : -1;
        return new TaskExample(id, clean, corrupt, answer, wrong, pos < 0 ? clean.length + pos : pos);
    }

    private static long[] tokens(JsonElement e, PromptTokenizer tok, String field) {
        if (e.isJsonArray()) {
            long[] ids = new long[e.getAsJsonArray().size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = e.getAsJsonArray().get(i).getAsLong();
            }
            return ids;
        }
        return requireTokenizer(tok, field).encode(e.getAsString());
    }

    private static long token(JsonElement e, String cleanText, PromptTokenizer tok, String field) {
        if (e.getAsJsonPrimitive().isNumber()) {
            return e.getAsLong();
        }
        String text = e.getAsString();
        if (cleanText != null) {
            return requireTokenizer(tok, field).continuationToken(cleanText, text);
        }
        throw new IllegalArgumentException("'" + field + "' is text but 'clean' is token ids; give '" + field + "' as a token id");
    }

    private static PromptTokenizer requireTokenizer(PromptTokenizer tok, String field) {
        if (tok == null) {
            throw new IllegalArgumentException("'" + field + "' is text but the model has no tokenizer.json; give token ids");
        }
        return tok;
    }
}
