package io.loupe.train;

import io.loupe.tokenize.PromptTokenizer;

import java.util.Arrays;

/**
 * The question/answer format every Loupe command trains and scores QA rows in (TOFU's, as the unlearning
 * issue pins it): the prompt {@code "Question: {q}\nAnswer:"}, then {@code " " + answer}, then EOS. Only the
 * answer's tokens and EOS are targets. Tokens come from encoding the whole text (so a tokenizer that merges
 * across the boundary sees what the model will), and the answer starts where that encoding stops agreeing
 * with the prompt's own.
 */
public final class QaFormat {
    private QaFormat() {
    }

    /** {@code Question: {q}\nAnswer:} */
    public static String prompt(String question) {
        return "Question: " + question + "\nAnswer:";
    }

    /** The prompt followed by {@code " " + answer}. */
    public static String text(String question, String answer) {
        return prompt(question) + " " + answer;
    }

    /**
     * Prompt and answer tokens with EOS appended, the answer's first token as the first target.
     *
     * @param eosId the model's EOS id, or -1 to append none
     */
    public static TrainSequence encode(String id, String question, String answer, PromptTokenizer tok, long eosId) {
        if (answer == null || answer.isBlank()) {
            throw new IllegalArgumentException("QA row '" + id + "' has an empty answer");
        }
        long[] prompt = tok.encode(prompt(question));
        long[] full = tok.encode(text(question, answer));
        int shared = 0;
        while (shared < Math.min(prompt.length, full.length) && prompt[shared] == full[shared]) {
            shared++;
        }
        if (shared >= full.length) {
            throw new IllegalArgumentException("QA row '" + id + "': the answer adds no tokens after the prompt");
        }
        long[] ids = eosId >= 0 ? Arrays.copyOf(full, full.length + 1) : full;
        if (eosId >= 0) {
            ids[full.length] = eosId;
        }
        return new TrainSequence(id, ids, Math.max(1, shared));
    }
}
