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
     * Induction: {@code [BOS] r r[0..L-2]} where r is L distinct random tokens; at the last position the
     * model should continue the repeat with {@code r[L-1]}. The corrupted prompt has a different first
     * copy r', so the second copy no longer repeats anything; the wrong answer is {@code r'[L-1]}.
     * Tokens are drawn from the ids above the special tokens (ids ≥ 3 other than BOS/EOS).
     *
     * @param half L, the length of one copy (≥ 2)
     */
    public static List<TaskExample> induction(ModelConfig cfg, int n, int half, long seed) {
        int low = 3;
        int available = cfg.vocabSize() - low;
        if (half < 2 || 2 * half > available) {
            throw new IllegalArgumentException("induction needs 2 <= half <= " + available / 2 + " for a vocabulary of " + cfg.vocabSize()
                    + ", got " + half);
        }
        Random rnd = new Random(seed);
        List<TaskExample> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long[] r = distinct(rnd, half, low, cfg, null);
            long[] r2 = distinct(rnd, half, low, cfg, r);   // disjoint from r, so the corrupt run has no repeat
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

    private static long[] distinct(Random rnd, int n, int low, ModelConfig cfg, long[] avoid) {
        java.util.Set<Long> used = new java.util.HashSet<>();
        if (avoid != null) {
            for (long t : avoid) {
                used.add(t);
            }
        }
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            long t;
            do {
                t = low + rnd.nextInt(cfg.vocabSize() - low);
            } while (t == cfg.bosTokenId() || t == cfg.eosTokenId() || !used.add(t));
            out[i] = t;
        }
        return out;
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
