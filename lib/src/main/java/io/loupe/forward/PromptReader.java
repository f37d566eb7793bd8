package io.loupe.forward;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads prompts from JSONL: one object per line with {@code id} and {@code text} or {@code token_ids}.
 * When both are present, {@code token_ids} wins (the shared test vectors carry both). Errors name the line.
 */
public final class PromptReader {
    private PromptReader() {
    }

    public static List<Prompt> readJsonl(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + ": prompts file does not exist");
        }
        List<Prompt> prompts = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        var decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT);
        try (BufferedReader in = new BufferedReader(new java.io.InputStreamReader(Files.newInputStream(file), decoder))) {
            String line;
            int n = 0;
            while ((line = in.readLine()) != null) {
                n++;
                if (line.isBlank()) {
                    continue;
                }
                Prompt p = parse(line, file, n);
                if (!seen.add(p.id())) {
                    throw new IllegalArgumentException(file + ":" + n + ": duplicate id '" + p.id() + "'");
                }
                prompts.add(p);
            }
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(file + ": not valid UTF-8 (" + e.getMessage() + ")");
        }
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException(file + ": no prompts");
        }
        return prompts;
    }

    private static Prompt parse(String line, Path file, int n) {
        try {
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            if (!o.has("id")) {
                throw new IllegalArgumentException("missing id");
            }
            String id = o.get("id").getAsString();
            if (o.has("token_ids")) {
                JsonArray a = o.getAsJsonArray("token_ids");
                long[] ids = new long[a.size()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = a.get(i).getAsLong();
                }
                if (ids.length == 0) {
                    throw new IllegalArgumentException("empty token_ids");
                }
                return new Prompt(id, null, ids);
            }
            if (!o.has("text")) {
                throw new IllegalArgumentException("needs text or token_ids");
            }
            String text = o.get("text").getAsString();
            if (text.isEmpty()) {
                throw new IllegalArgumentException("empty text");
            }
            return new Prompt(id, text, null);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(file + ":" + n + ": " + e.getMessage(), e);
        }
    }
}
