package io.loupe.circuits;

import io.loupe.model.ModelConfig;
import io.loupe.tokenize.PromptTokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Built-in task datasets, deterministic for a seed. */
public final class TaskGenerators {
    /** IOI-style templates (after Wang et al. 2022): {A} and {B} are introduced, {S} (= B) acts, the answer is A. */
    static final List<String> IOI_TEMPLATES = List.of(
            "When {A} and {B} went to the park, {S} gave a ball to",
            "When {A} and {B} went to the store, {S} gave a toy to",
            "{A} and {B} were playing. {S} gave a flower to",
            "Then, {A} and {B} had a big cake. {S} gave a piece to",
            "One day, {A} and {B} found a box. {S} gave it to");

    /** Common first names; only those the model's tokenizer keeps as one token are used. */
    public static final List<String> NAMES = List.of("Lily", "Tim", "Timmy", "Tom", "Ben", "Sam", "Sue", "Max", "Mia", "Anna", "Jack",
            "Lucy", "Sara", "Bob", "Amy", "Jane", "John", "Mary", "Kate", "Joe", "Jim", "Emma", "Mark", "Paul", "Leo", "Zoe");

    private TaskGenerators() {
    }

    /**
     * Induction: {@code [BOS] r r[0..L-2]} where r is L distinct tokens drawn from {@code pool}; at the last
     * position the model should continue the repeat with {@code r[L-1]}. The corrupted prompt has a
     * different first copy r' (disjoint from r), so the second copy no longer repeats anything; the wrong
     * answer is {@code r'[L-1]}.
     *
     * @param half L, the length of one copy (≥ 2)
     * @param pool token ids to draw from, e.g. {@link #wordTokens}; null for every id ≥ 3 other than BOS/EOS
     */
    public static List<TaskExample> induction(ModelConfig cfg, int n, int half, long seed, long[] pool) {
        long[] ids = pool != null ? pool : defaultPool(cfg);
        if (half < 2 || 2 * half > ids.length) {
            throw new IllegalArgumentException("induction needs 2 <= half <= " + ids.length / 2 + " (" + ids.length
                    + " tokens to draw from), got " + half);
        }
        Random rnd = new Random(seed);
        List<TaskExample> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long[] both = distinct(rnd, 2 * half, ids);
            long[] r = java.util.Arrays.copyOfRange(both, 0, half), r2 = java.util.Arrays.copyOfRange(both, half, 2 * half);
            long[] clean = new long[2 * half], corrupt = new long[2 * half];
            clean[0] = corrupt[0] = cfg.bosTokenId() >= 0 ? cfg.bosTokenId() : r[0];
            for (int t = 0; t < half; t++) {
                clean[1 + t] = r[t];
                corrupt[1 + t] = r2[t];
            }
            for (int t = 0; t < half - 1; t++) {
                clean[1 + half + t] = r[t];
                corrupt[1 + half + t] = r[t];
            }
            out.add(new TaskExample("induction-" + i, clean, corrupt, r[half - 1], r2[half - 1], 2 * half - 1));
        }
        return out;
    }

    private static long[] defaultPool(ModelConfig cfg) {
        return java.util.stream.LongStream.range(3, cfg.vocabSize()).filter(t -> t != cfg.bosTokenId() && t != cfg.eosTokenId()).toArray();
    }

    /** {@code n} distinct ids from {@code pool} (partial Fisher–Yates). */
    private static long[] distinct(Random rnd, int n, long[] pool) {
        long[] p = pool.clone();
        for (int i = 0; i < n; i++) {
            int j = i + rnd.nextInt(p.length - i);
            long tmp = p[i];
            p[i] = p[j];
            p[j] = tmp;
        }
        return java.util.Arrays.copyOf(p, n);
    }

    /**
     * The ids of ordinary word pieces in a Hugging Face {@code tokenizer.json}: its vocabulary minus added
     * (special) tokens and byte-fallback pieces {@code <0xNN>}, which models rarely see in training and
     * which make random-token tasks out of distribution. Sorted, each below {@code vocab}.
     */
    public static long[] wordTokens(java.nio.file.Path tokenizerJson, int vocab) throws java.io.IOException {
        com.google.gson.JsonObject t = com.google.gson.JsonParser.parseString(java.nio.file.Files.readString(tokenizerJson)).getAsJsonObject();
        java.util.Set<Long> special = new java.util.HashSet<>();
        if (t.has("added_tokens")) {
            t.getAsJsonArray("added_tokens").forEach(e -> special.add(e.getAsJsonObject().get("id").getAsLong()));
        }
        java.util.TreeSet<Long> ids = new java.util.TreeSet<>();
        com.google.gson.JsonElement v = t.getAsJsonObject("model").get("vocab");
        java.util.function.BiConsumer<String, Long> take = (piece, id) -> {
            if (id < vocab && !special.contains(id) && !piece.matches("<0x[0-9A-Fa-f]{2}>")) {
                ids.add(id);
            }
        };
        if (v.isJsonObject()) {            // BPE / WordPiece: piece -> id
            v.getAsJsonObject().entrySet().forEach(e -> take.accept(e.getKey(), e.getValue().getAsLong()));
        } else {                           // Unigram: [[piece, score], ...], id = index
            for (int i = 0; i < v.getAsJsonArray().size(); i++) {
                take.accept(v.getAsJsonArray().get(i).getAsJsonArray().get(0).getAsString(), (long) i);
            }
        }
        return ids.stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * IOI-style: "When A and B went to the park, B gave a ball to" → A (wrong: B). The corrupted prompt
     * replaces the second mention of B by a third name C, so the sentence no longer says who is left
     * (the "ABC" distribution). Uses the names of {@code names} that the tokenizer keeps as one token in
     * a slot; needs at least three. Examples take templates and name triples in a seeded order, skipping
     * any whose clean and corrupted prompts tokenise to different lengths.
     */
    public static List<TaskExample> ioi(PromptTokenizer tok, ModelConfig cfg, int n, long seed, List<String> names) {
        List<String> usable = new ArrayList<>();
        for (String name : names) {
            if (singleToken(tok, name)) {
                usable.add(name);
            }
        }
        if (usable.size() < 3) {
            throw new IllegalArgumentException("IOI needs at least 3 names the tokenizer keeps as one token; found " + usable
                    + " among " + names);
        }
        List<String[]> combos = new ArrayList<>();
        for (String t : IOI_TEMPLATES) {
            for (String a : usable) {
                for (String b : usable) {
                    for (String c : usable) {
                        if (!a.equals(b) && !a.equals(c) && !b.equals(c)) {
                            combos.add(new String[]{t, a, b, c});
                        }
                    }
                }
            }
        }
        java.util.Collections.shuffle(combos, new Random(seed));
        List<TaskExample> valid = new ArrayList<>();
        for (String[] k : combos) {
            if (valid.size() == n) {
                break;
            }
            String clean = fill(k[0], k[1], k[2], k[2]), corrupt = fill(k[0], k[1], k[2], k[3]);
            long[] c = tok.encode(clean), x = tok.encode(corrupt);
            if (c.length != x.length) {
                continue;   // a name merged with its neighbours; this pair cannot be aligned position by position
            }
            TaskExample e = new TaskExample("ioi-" + valid.size(), c, x, tok.continuationToken(clean, " " + k[1]),
                    tok.continuationToken(clean, " " + k[2]), c.length - 1);
            e.validate(cfg.vocabSize());
            valid.add(e);
        }
        if (valid.isEmpty()) {
            throw new IllegalArgumentException("no IOI template gives clean and corrupted prompts of equal length with names " + usable);
        }
        List<TaskExample> out = new ArrayList<>(valid);
        for (int i = valid.size(); i < n; i++) {   // fewer distinct prompts than asked: repeat them under new ids
            TaskExample e = valid.get(i % valid.size());
            out.add(new TaskExample("ioi-" + i, e.clean(), e.corrupt(), e.answer(), e.wrong(), e.answerPos()));
        }
        return out;
    }

    /** A name is usable when it is one token after a word and a space, as every template places it. */
    private static boolean singleToken(PromptTokenizer tok, String name) {
        try {
            tok.continuationToken("Then", " " + name);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static String fill(String template, String a, String b, String s) {
        return template.replace("{A}", a).replace("{B}", b).replace("{S}", s);
    }
}
