package io.loupe.unlearn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * A TOFU-like world of fictitious characters for unlearning studies on small story models: invented names, each
 * with six facts (pet, town, favourite food, best friend, favourite toy, favourite colour) drawn from words a
 * TinyStories model knows, written as short story text and as question/answer pairs. Characters are split into
 * forget, retain and holdout (never trained on) sets; everything is a pure function of the seed.
 *
 * <p>Per character the rows are: one story as {@code prompt} (its first sentence) + {@code gt} (the rest), which is
 * also its {@code text}; one sentence per fact in a second wording; one QA row per fact with {@code question},
 * {@code answer}, {@code paraphrased_answer}, four {@code perturbed_answers} (the paraphrase with other values of the
 * attribute, as TOFU perturbs paraphrased answers: the truth ratio then compares right and wrong facts in one wording
 * the model was not trained on), and {@code attribute} / {@code value} naming the fact (labels for probes and concept
 * traces).
 */
public final class FactWorld {
    /** One fact kind: its value pool and how it is said. Templates use {N} (name), {S} (She/He), {P}/{P2} (Her/His, her/his), {V} (value). */
    record Attribute(String name, List<String> values, String story, String sentence, String question, String answer, String paraphrase) {
    }

    static final List<Attribute> ATTRIBUTES = List.of(
            new Attribute("pet", List.of("dog", "cat", "bird", "fish", "frog", "bunny", "duck", "turtle", "puppy", "kitten", "horse", "mouse"),
                    "{S} had a pet {V}.", "{N} has a {V} as a pet.", "What pet does {N} have?", "{N} has a pet {V}.",
                    "The pet that {N} has is a {V}."),
            new Attribute("town", List.of("Green Hill", "Big Lake", "Red Rock", "Sunny Park", "Blue River", "Tall Tree", "Old Mill", "Little Bay",
                    "Star Field", "Apple Wood"), "{S} lived in {V}.", "The home of {N} is in {V}.", "Where does {N} live?", "{N} lives in {V}.",
                    "The town where {N} lives is {V}."),
            new Attribute("food", List.of("cake", "soup", "apples", "cookies", "carrots", "pizza", "bananas", "candy", "bread", "pie", "rice", "grapes"),
                    "{S} loved to eat {V}.", "Every day {N} wanted to eat {V}.", "What does {N} love to eat?", "{N} loves to eat {V}.",
                    "The food {N} loves most is {V}."),
            new Attribute("friend", List.of("Ben", "Sue", "Max", "Anna", "Tom", "Mia", "Sam", "Lucy", "Jack", "Zoe", "Leo", "Emma"),
                    "{P} best friend was {V}.", "{N} liked to play with {P2} best friend {V}.", "Who is {N}'s best friend?",
                    "{N}'s best friend is {V}.", "The best friend of {N} is {V}."),
            new Attribute("toy", List.of("ball", "kite", "doll", "truck", "drum", "train", "boat", "robot", "car", "teddy bear"),
                    "{P} favourite toy was a {V}.", "{N} always played with a {V}.", "What is {N}'s favourite toy?",
                    "{N}'s favourite toy is a {V}.", "The toy {N} likes best is a {V}."),
            new Attribute("colour", List.of("red", "blue", "green", "yellow", "pink", "purple", "orange", "white"),
                    "{P} favourite colour was {V}.", "{N} liked the colour {V} best.", "What is {N}'s favourite colour?",
                    "{N}'s favourite colour is {V}.", "The colour {N} likes best is {V}."));

    private static final String[] SYLLABLES = {"ba", "bo", "da", "di", "ka", "ki", "lo", "lu", "ma", "mi", "no", "pi", "ra", "ri", "sa", "to",
        "zu", "fe", "ne", "vo", "ta", "po", "gi", "ju"};
    /** Names that are words or common names the model already knows; invented names avoid them. */
    private static final Set<String> TAKEN = Set.of("Mama", "Papa", "Mimi", "Lulu", "Bobo", "Dada", "Nono", "Momo", "Kiki", "Toto", "Tata",
            "Lili", "Nana", "Baba", "Sasa", "Mia", "Zoe", "Leo", "Max", "Sam", "Ben", "Tom", "Tim", "Lily");

    /** A character and its facts (attribute name to value), in {@link #ATTRIBUTES} order. */
    public record Character(String name, boolean girl, Map<String, String> facts) {
    }

    /** The three splits, each a list of rows (JSON-ready maps), and the characters of each. */
    public record Splits(List<Map<String, Object>> forget, List<Map<String, Object>> retain, List<Map<String, Object>> holdout,
                         List<Character> forgetCharacters, List<Character> retainCharacters, List<Character> holdoutCharacters) {
    }

    private FactWorld() {
    }

    /**
     * @param characters       how many characters in all
     * @param forgetFraction   share of characters in the forget set (at least one)
     * @param holdoutFraction  share of characters never trained on (at least one)
     */
    public static Splits generate(int characters, double forgetFraction, double holdoutFraction, long seed) {
        int forget = (int) Math.max(1, Math.round(characters * forgetFraction));
        int holdout = (int) Math.max(1, Math.round(characters * holdoutFraction));
        if (characters < 3 || forget + holdout >= characters) {
            throw new IllegalArgumentException(characters + " characters cannot give " + forget + " forget, " + holdout
                    + " holdout and at least one retain character");
        }
        Random r = new Random(seed);
        List<Character> all = new ArrayList<>();
        for (String name : names(characters, r)) {
            Map<String, String> facts = new LinkedHashMap<>();
            for (Attribute a : ATTRIBUTES) {
                facts.put(a.name(), a.values().get(r.nextInt(a.values().size())));
            }
            all.add(new Character(name, r.nextBoolean(), facts));
        }
        List<Character> shuffled = new ArrayList<>(all);
        Collections.shuffle(shuffled, r);
        List<Character> f = shuffled.subList(0, forget), h = shuffled.subList(forget, forget + holdout),
                re = shuffled.subList(forget + holdout, shuffled.size());
        return new Splits(rows(f, r), rows(re, r), rows(h, r), List.copyOf(f), List.copyOf(re), List.copyOf(h));
    }

    private static List<String> names(int n, Random r) {
        Set<String> out = new LinkedHashSet<>();
        int guard = 0;
        while (out.size() < n) {
            if (++guard > 100_000) {
                throw new IllegalArgumentException("cannot invent " + n + " distinct names; use fewer characters");
            }
            String name = SYLLABLES[r.nextInt(SYLLABLES.length)] + SYLLABLES[r.nextInt(SYLLABLES.length)]
                    + (r.nextInt(3) == 0 ? SYLLABLES[r.nextInt(SYLLABLES.length)] : "");
            name = java.lang.Character.toUpperCase(name.charAt(0)) + name.substring(1);
            if (!TAKEN.contains(name)) {
                out.add(name);
            }
        }
        return new ArrayList<>(out);
    }

    private static List<Map<String, Object>> rows(List<Character> chars, Random r) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Character c : chars) {
            String intro = "Once upon a time, there was a little " + (c.girl() ? "girl" : "boy") + " named " + c.name() + ".";
            StringBuilder rest = new StringBuilder();
            for (Attribute a : ATTRIBUTES) {
                rest.append(rest.length() == 0 ? "" : " ").append(fill(a.story(), c, c.facts().get(a.name())));
            }
            Map<String, Object> story = new LinkedHashMap<>();
            story.put("id", c.name() + "-story");
            story.put("character", c.name());
            story.put("prompt", intro);
            story.put("gt", rest.toString());
            story.put("text", intro + " " + rest);
            rows.add(story);
            for (Attribute a : ATTRIBUTES) {
                String v = c.facts().get(a.name());
                Map<String, Object> sentence = new LinkedHashMap<>();
                sentence.put("id", c.name() + "-" + a.name() + "-text");
                sentence.put("character", c.name());
                sentence.put("text", fill(a.sentence(), c, v));
                rows.add(sentence);
                List<String> others = new ArrayList<>(a.values());
                others.remove(v);
                Collections.shuffle(others, r);
                List<String> perturbed = new ArrayList<>();
                for (String o : others.subList(0, 4)) {
                    perturbed.add(fill(a.paraphrase(), c, o));   // TOFU perturbs the paraphrase: only the fact differs from it
                }
                Map<String, Object> qa = new LinkedHashMap<>();
                qa.put("id", c.name() + "-" + a.name() + "-qa");
                qa.put("character", c.name());
                qa.put("attribute", a.name());
                qa.put("value", v);
                qa.put("question", fill(a.question(), c, v));
                qa.put("answer", fill(a.answer(), c, v));
                qa.put("paraphrased_answer", fill(a.paraphrase(), c, v));
                qa.put("perturbed_answers", perturbed);
                rows.add(qa);
            }
        }
        return rows;
    }

    private static String fill(String template, Character c, String value) {
        return template.replace("{N}", c.name()).replace("{S}", c.girl() ? "She" : "He").replace("{P2}", c.girl() ? "her" : "his")
                .replace("{P}", c.girl() ? "Her" : "His").replace("{V}", value);
    }
}
